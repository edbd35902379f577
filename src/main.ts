#!/usr/bin/env node
// The `waypoint` command line: run, validate.
import { Command, InvalidArgumentError, Option } from 'commander';
import { type HostPort, parseHostPort } from './admin/admin-server.js';
import { runCommand } from './cli/run-command.js';
import { validateCommand } from './cli/validate-command.js';
import { durationMs } from './config/model/gateway-api.js';
import { createLogger, type LogLevel } from './observability/logger.js';

function hostPort(value: string): HostPort {
  const parsed = parseHostPort(value);
  if (parsed === undefined) throw new InvalidArgumentError('expected HOST:PORT, :PORT or [IPv6]:PORT');
  return parsed;
}

function duration(value: string): number {
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(value)) throw new InvalidArgumentError('expected a duration such as 30s, 500ms or 1m');
  return durationMs(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function namespacedName(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value)) throw new InvalidArgumentError('expected NAMESPACE/NAME');
  return value;
}

const program = new Command();
program
  .name('waypoint')
  .description('A Layer-7 service-mesh waypoint proxy configured with Gateway API and Istio resources')
  .version('0.1.0');

program
  .command('run')
  .description('run the waypoint from YAML/JSON config files or directories (watched; edits apply live)')
  .requiredOption('-c, --config <path>', 'config file or directory (repeatable)', collect, [])
  .option('--waypoint <namespace/name>', 'the Gateway of class istio-waypoint to serve (default: the only one)', namespacedName)
  .option('--admin-address <host:port>', 'admin server (/config_dump, /healthz/ready)', hostPort, { host: '127.0.0.1', port: 15000 })
  .option('--metrics-address <host:port>', 'Prometheus metrics server (/stats/prometheus)', hostPort, { host: '0.0.0.0', port: 15020 })
  .option('--hbone-address <host:port>', 'HBONE tunnel listener (mTLS HTTP/2 CONNECT)', hostPort, { host: '0.0.0.0', port: 15008 })
  .option('--cluster-domain <domain>', 'Kubernetes cluster domain for Service hostnames', 'cluster.local')
  .option('--mesh-config <file>', 'Istio MeshConfig YAML (or the istio ConfigMap): extension providers, access logs, tracing')
  .option('--drain-timeout <duration>', 'grace period for in-flight requests on SIGTERM', duration, 10_000)
  .option('--connect-timeout <duration>', 'upstream connect timeout', duration, 10_000)
  .option('--no-watch', 'do not watch config files for changes')
  .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
  .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
  .action(async (opts: { config: string[]; waypoint?: string; meshConfig?: string; adminAddress: HostPort; metricsAddress: HostPort; hboneAddress: HostPort; clusterDomain: string; drainTimeout: number; connectTimeout: number; watch: boolean; logFormat: 'text' | 'json'; logLevel: LogLevel }) => {
    const log = createLogger(opts.logFormat, (line) => process.stderr.write(line), opts.logLevel);
    process.exitCode = await runCommand({
      config: opts.config,
      waypoint: opts.waypoint,
      clusterDomain: opts.clusterDomain,
      meshConfigFile: opts.meshConfig,
      adminAddress: opts.adminAddress,
      metricsAddress: opts.metricsAddress,
      hboneAddress: opts.hboneAddress,
      drainTimeoutMs: opts.drainTimeout,
      connectTimeoutMs: opts.connectTimeout,
      watch: opts.watch,
      log,
    });
  });

program
  .command('validate')
  .description('check config files: print every diagnostic and route status; exit 1 on errors')
  .requiredOption('-c, --config <path>', 'config file or directory (repeatable)', collect, [])
  .option('--waypoint <namespace/name>', 'the Gateway of class istio-waypoint to check against', namespacedName)
  .option('--cluster-domain <domain>', 'Kubernetes cluster domain', 'cluster.local')
  .option('--mesh-config <file>', 'Istio MeshConfig YAML (or the istio ConfigMap)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (opts: { config: string[]; waypoint?: string; meshConfig?: string; clusterDomain: string; output: 'text' | 'json' }) => {
    process.exitCode = await validateCommand(
      { config: opts.config, waypoint: opts.waypoint, meshConfigFile: opts.meshConfig, clusterDomain: opts.clusterDomain, output: opts.output },
      (s) => process.stdout.write(s),
    );
  });

await program.parseAsync(process.argv);
