// Application log (not the access log): one line per event, `text` for people or `json` for machines.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  level: LogLevel;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(format: 'text' | 'json', write: (line: string) => void, level: LogLevel = 'info'): Logger {
  const emit = (lvl: LogLevel, message: string, fields: LogFields | undefined): void => {
    if (ORDER[lvl] < ORDER[logger.level]) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      write(`${JSON.stringify({ time, level: lvl, msg: message, ...fields })}\n`);
      return;
    }
    let line = `${time} ${lvl.padEnd(5)} ${message}`;
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`;
    }
    write(`${line}\n`);
  };
  const logger: Logger = {
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
  return logger;
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = createLogger('text', () => undefined, 'error');
