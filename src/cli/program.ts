// The `waypoint` command line: run, validate, ca, request, explain, status, config, tap. Loaded by
// src/main.ts once the young generation is held (src/cli/young-generation-hold.ts).
import { youngGenerationHold } from './young-generation-hold.js';
import { DEFAULT_SEMI_SPACE_MIB } from './young-generation.js';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { type HostPort, parseHostPort } from '../admin/admin-server.js';
import { kubernetesFromFlags } from './kubernetes-options.js';
import { runCommand } from './run-command.js';
import { hboneFromFlags } from '../hbone/hbone-flags.js';
import { validateCommand } from './validate-command.js';
import { durationMs } from '../config/model/gateway-api.js';
import { createLogger, type LogLevel } from '../observability/logger.js';
import { availableParallelism } from 'node:os';

function hostPort(value: string): HostPort {
  const parsed = parseHostPort(value);
  if (parsed === undefined) throw new InvalidArgumentError('expected HOST:PORT, :PORT or [IPv6]:PORT');
  return parsed;
}

function duration(value: string): number {
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(value)) throw new InvalidArgumentError('expected a duration such as 30s, 500ms or 1m');
  return durationMs(value);
}

function workerCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('expected a whole number of workers from 1 to 256');
  return n;
}

function port(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new InvalidArgumentError('expected a port, 1-65535');
  return Number(value);
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
  .description('run the waypoint from YAML/JSON config files or directories (watched; edits apply live), or from a cluster')
  .option('-c, --config <path>', 'config file or directory (repeatable); or --kubernetes', collect, [])
  .option('--waypoint <namespace/name>', 'the waypoint Gateway (class istio-waypoint or waypoint) to serve (default: the only one)', namespacedName)
  .option('--admin-address <host:port>', 'admin server (/config_dump, /healthz/ready)', hostPort, { host: '127.0.0.1', port: 15000 })
  .option('--metrics-address <host:port>', 'Prometheus metrics server (/stats/prometheus)', hostPort, { host: '0.0.0.0', port: 15020 })
  .option('--hbone-address <host:port>', 'HBONE tunnel listener (mTLS HTTP/2 CONNECT); needs --cert/--key/--trust-bundle', hostPort, { host: '0.0.0.0', port: 15008 })
  .option('--cert <file>', 'the waypoint\'s workload certificate (PEM, SPIFFE URI SAN; watched, rotation applies to new handshakes)')
  .option('--key <file>', 'its private key (PEM)')
  .option('--trust-bundle <file>', 'root certificates peers must chain to (PEM)')
  .option('--trust-domain <domain>', 'SPIFFE trust domain of the mesh', 'cluster.local')
  .option('--hbone-upstream-port <port>', 'HBONE port of ambient destinations (ztunnel: 15008)', port, 15008)
  .option('--trust-forwarded-from <spiffe-id>', 'peers whose Forwarded: for= sets the source address (repeatable; prefix with *); default: the whole trust domain', collect, [])
  .option('--cluster-domain <domain>', 'Kubernetes cluster domain for Service hostnames', 'cluster.local')
  .option('--mesh-config <file>', 'Istio MeshConfig YAML (or the istio ConfigMap): extension providers, access logs, tracing')
  .option('--drain-timeout <duration>', 'grace period for in-flight requests on SIGTERM', duration, 10_000)
  .option('--connect-timeout <duration>', 'upstream connect timeout', duration, 10_000)
  .option('--wasm-cache-dir <dir>', 'WasmPlugin module cache, by sha256 (default: $TMPDIR/waypoint-wasm-cache)')
  .option('--no-watch', 'do not watch config files for changes')
  .option('--workers <n>', 'worker processes sharing the listeners (1: one process serves alone)', workerCount, availableParallelism())
  .option('--kubernetes', 'read the configuration from the Kubernetes API server (list+watch) and write status back')
  .option('--kubeconfig <file>', 'with --kubernetes: credentials (default: $KUBECONFIG, the in-cluster service account, ~/.kube/config)')
  .option('--no-write-status', 'with --kubernetes: never write status (read-only)')
  .option('--leader-election-namespace <ns>', 'with --kubernetes: namespace of the status Lease (default: $POD_NAMESPACE)')
  .option('--health-address <host:port>', 'with --kubernetes: /healthz/ready on its own port (Istio uses 15021)', hostPort)
  .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
  .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
  .action(async (opts: { config: string[]; waypoint?: string; meshConfig?: string; adminAddress: HostPort; metricsAddress: HostPort; hboneAddress: HostPort; cert?: string; key?: string; trustBundle?: string; trustDomain: string; hboneUpstreamPort: number; trustForwardedFrom: string[]; clusterDomain: string; drainTimeout: number; connectTimeout: number; wasmCacheDir?: string; watch: boolean; workers: number; logFormat: 'text' | 'json'; logLevel: LogLevel }) => {
    const log = createLogger(opts.logFormat, (line) => process.stderr.write(line), opts.logLevel);
    const kubernetes = kubernetesFromFlags(opts);
    if (!kubernetes.ok) {
      program.error(`error: ${kubernetes.message}`);
      return;
    }
    const hbone = hboneFromFlags(opts);
    if (!hbone.ok) {
      program.error(`error: ${hbone.message}`);
      return;
    }
    process.exitCode = await runCommand({
      ...(hbone.value === undefined ? {} : { hbone: hbone.value }),
      config: opts.config,
      waypoint: opts.waypoint,
      clusterDomain: opts.clusterDomain,
      meshConfigFile: opts.meshConfig,
      adminAddress: opts.adminAddress,
      metricsAddress: opts.metricsAddress,
      hboneAddress: opts.hboneAddress,
      drainTimeoutMs: opts.drainTimeout,
      connectTimeoutMs: opts.connectTimeout,
      ...(opts.wasmCacheDir === undefined ? {} : { wasmCacheDir: opts.wasmCacheDir }),
      watch: opts.watch,
      log,
      kubernetes: kubernetes.value,
      workers: opts.workers,
      onServing: () => youngGenerationHold?.grow(DEFAULT_SEMI_SPACE_MIB),
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

program
  .command('analyze')
  .description('istioctl-analyze-style report: code, level, resource, field and suggested fix per finding; exit 1 on errors')
  .requiredOption('-c, --config <path>', 'config file or directory (repeatable)', collect, [])
  .option('--waypoint <namespace/name>', 'the Gateway of class istio-waypoint to check against', namespacedName)
  .option('--cluster-domain <domain>', 'Kubernetes cluster domain', 'cluster.local')
  .option('--mesh-config <file>', 'Istio MeshConfig YAML (or the istio ConfigMap)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (opts: { config: string[]; waypoint?: string; meshConfig?: string; clusterDomain: string; output: 'text' | 'json' }) => {
    const { analyzeCommand } = await import('./analyze-command.js');
    process.exitCode = await analyzeCommand(
      { config: opts.config, waypoint: opts.waypoint, meshConfigFile: opts.meshConfig, clusterDomain: opts.clusterDomain, output: opts.output },
      (s) => process.stdout.write(s),
    );
  });

const ca = program.command('ca').description('a development CA for SPIFFE workload certificates (laptops and tests)');
ca.command('init')
  .description('create a self-signed root CA: DIR/ca-cert.pem (the trust bundle) and DIR/ca-key.pem')
  .requiredOption('--dir <dir>', 'directory for the CA files')
  .option('--force', 'replace an existing CA')
  .action(async (opts: { dir: string; force?: boolean }) => {
    const { caInitCommand } = await import('./ca-command.js');
    process.exitCode = await caInitCommand({ dir: opts.dir, force: opts.force === true }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  });
ca.command('issue')
  .description('issue a workload certificate: PREFIX-cert.pem and PREFIX-key.pem with the SPIFFE ID as URI SAN')
  .requiredOption('--dir <dir>', 'directory of the CA (waypoint ca init)')
  .requiredOption('--spiffe <id>', 'spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/SERVICE-ACCOUNT')
  .requiredOption('--out <prefix>', 'output path prefix')
  .option('--ttl <duration>', 'lifetime (default 24h, as Istio workload certificates)', duration)
  .action(async (opts: { dir: string; spiffe: string; out: string; ttl?: number }) => {
    const { caIssueCommand } = await import('./ca-command.js');
    process.exitCode = await caIssueCommand({ dir: opts.dir, spiffe: opts.spiffe, out: opts.out, ttlMs: opts.ttl }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  });

program
  .command('request')
  .description('send one HTTP request through an HBONE tunnel as the given workload identity; prints status, headers and body')
  .argument('<method>', 'HTTP method')
  .argument('<url>', 'http://SERVICE-VIP:PORT/path (the original destination)')
  .requiredOption('--cert <file>', 'client workload certificate (PEM)')
  .requiredOption('--key <file>', 'its private key (PEM)')
  .requiredOption('--trust-bundle <file>', 'root certificates the waypoint must chain to (PEM)')
  .option('--trust-domain <domain>', 'SPIFFE trust domain', 'cluster.local')
  .option('--via <host:port>', 'the waypoint\'s HBONE address', hostPort, { host: '127.0.0.1', port: 15008 })
  .option('-H, --header <header>', 'request header NAME: VALUE (repeatable)', collect, [])
  .option('-d, --data <body>', 'request body')
  .option('--baggage <baggage>', 'source workload metadata for the CONNECT, e.g. k8s.deployment.name=sleep,service.version=v1')
  .option('--timeout <duration>', 'give up after this long', duration, 10_000)
  .action(async (method: string, url: string, opts: { cert: string; key: string; trustBundle: string; trustDomain: string; via: HostPort; header: string[]; data?: string; baggage?: string; timeout: number }) => {
    const { requestCommand } = await import('./request-command.js');
    process.exitCode = await requestCommand(
      { certFile: opts.cert, keyFile: opts.key, trustBundleFile: opts.trustBundle, trustDomain: opts.trustDomain, via: opts.via, method: method.toUpperCase(), url, headers: opts.header, data: opts.data, baggage: opts.baggage, timeoutMs: opts.timeout },
      (s) => process.stdout.write(s),
      (s) => process.stderr.write(s),
    );
  });

program
  .command('explain')
  .description('print the decision trace (listener, route, policies, JWT, backend, response) of one request, offline, through the real data path; no traffic leaves the process')
  .argument('<method>', 'HTTP method')
  .argument('<url>', 'http://SERVICE-HOST-OR-VIP:PORT/path')
  .requiredOption('-c, --config <path>', 'config file or directory (repeatable)', collect, [])
  .option('--waypoint <namespace/name>', 'the Gateway of class istio-waypoint to serve', namespacedName)
  .option('--mesh-config <file>', 'Istio MeshConfig YAML (or the istio ConfigMap)')
  .option('--cluster-domain <domain>', 'Kubernetes cluster domain', 'cluster.local')
  .option('--from <spiffe-id>', 'the caller\'s workload identity, as its HBONE tunnel would present it')
  .option('--source-ip <ip>', 'the caller\'s address')
  .option('-H, --header <header>', 'request header NAME: VALUE (repeatable)', collect, [])
  .option('--jwt <token>', 'send as Authorization: Bearer TOKEN')
  .option('--expect <allow|deny|status>', 'exit 1 unless the request is allowed, denied (by authn/authz) or answered with this status')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (method: string, url: string, opts: { config: string[]; waypoint?: string; meshConfig?: string; clusterDomain: string; from?: string; sourceIp?: string; header: string[]; jwt?: string; expect?: string; output: 'text' | 'json' }) => {
    const { explainCommand } = await import('./explain-command.js');
    process.exitCode = await explainCommand(
      { config: opts.config, waypoint: opts.waypoint, meshConfigFile: opts.meshConfig, clusterDomain: opts.clusterDomain, from: opts.from, sourceIp: opts.sourceIp, headers: opts.header, jwt: opts.jwt, expect: opts.expect, output: opts.output, method: method.toUpperCase(), url },
      (s) => process.stdout.write(s),
      (s) => process.stderr.write(s),
    );
  });

program
  .command('status')
  .description('readiness, served Gateway, enrolled Services, routes, policies and diagnostics of a running waypoint')
  .option('--admin <host:port>', 'its admin address', '127.0.0.1:15000')
  .action(async (opts: { admin: string }) => {
    const { statusCommand } = await import('./status-command.js');
    process.exitCode = await statusCommand({ admin: opts.admin }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  });

program
  .command('config')
  .description('effective configuration of a running waypoint (its /config_dump) as tables or JSON')
  .addArgument(new Argument('<section>', 'what to show').choices(['routes', 'clusters', 'listeners', 'policies']))
  .option('--admin <host:port>', 'its admin address', '127.0.0.1:15000')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
  .action(async (section: 'routes' | 'clusters' | 'listeners' | 'policies', opts: { admin: string; output: 'table' | 'json' }) => {
    const { configCommand } = await import('./config-command.js');
    process.exitCode = await configCommand({ admin: opts.admin, section, output: opts.output }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  });

program
  .command('tap')
  .description('stream the requests going through a running waypoint, live (its /debug/tap); Ctrl-C stops')
  .option('--admin <host:port>', 'its admin address', '127.0.0.1:15000')
  .option('--service <name>', 'only this Service (NAME or NAMESPACE/NAME)')
  .option('--path <prefix>', 'only paths starting with this prefix')
  .option('--status <status>', 'only this status (503) or class (5xx)')
  .option('--count <n>', 'stop after N requests', (v: string) => Number.parseInt(v, 10))
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (opts: { admin: string; service?: string; path?: string; status?: string; count?: number; output: 'text' | 'json' }) => {
    const { tapCommand } = await import('./tap-command.js');
    process.exitCode = await tapCommand({ admin: opts.admin, service: opts.service, path: opts.path, status: opts.status, count: opts.count, output: opts.output }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  });

await program.parseAsync(process.argv);
