// proxy-wasm ABI constants (spec v0.2.1 / v0.2.0 / v0.1.0): status codes, enums and the host functions a
// module may import. Values are the spec's; names follow its `proxy_*_t` enums.

export const enum Status {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  InternalFailure = 10,
  Unimplemented = 12,
}

export const enum Action {
  Continue = 0,
  Pause = 1,
}

export const enum MapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcInitialMetadata = 4,
  GrpcTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

export const enum BufferType {
  RequestBody = 0,
  ResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcCallMessage = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  ForeignFunctionArguments = 8,
}

export const enum StreamType {
  Request = 0,
  Response = 1,
}

export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

export const enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

export type AbiVersion = '0.1.0' | '0.2.0' | '0.2.1';

/** The `proxy_abi_version_*` export that advertises each version, newest first. */
export const ABI_EXPORTS: ReadonlyArray<readonly [string, AbiVersion]> = [
  ['proxy_abi_version_0_2_1', '0.2.1'],
  ['proxy_abi_version_0_2_0', '0.2.0'],
  ['proxy_abi_version_0_1_0', '0.1.0'],
];

/**
 * Every `env` function of the ABI this host links. The ones this waypoint does not serve (gRPC calls,
 * foreign functions, `proxy_get_status` outside a call) link and answer `Unimplemented` at run time,
 * as a host may; a name outside this list refuses the module at load, as Envoy does.
 */
export const ENV_FUNCTIONS: ReadonlySet<string> = new Set([
  'proxy_log', 'proxy_get_log_level', 'proxy_get_current_time_nanoseconds', 'proxy_set_tick_period_milliseconds',
  'proxy_get_buffer_bytes', 'proxy_set_buffer_bytes', 'proxy_get_buffer_status',
  'proxy_get_header_map_size', 'proxy_get_header_map_pairs', 'proxy_set_header_map_pairs', 'proxy_get_header_map_value',
  'proxy_add_header_map_value', 'proxy_replace_header_map_value', 'proxy_remove_header_map_value',
  'proxy_continue_stream', 'proxy_close_stream', 'proxy_get_status', 'proxy_send_local_response', 'proxy_http_call',
  'proxy_set_shared_data', 'proxy_get_shared_data', 'proxy_register_shared_queue', 'proxy_resolve_shared_queue',
  'proxy_enqueue_shared_queue', 'proxy_dequeue_shared_queue',
  'proxy_define_metric', 'proxy_increment_metric', 'proxy_record_metric', 'proxy_get_metric',
  'proxy_get_property', 'proxy_set_property', 'proxy_set_effective_context', 'proxy_done', 'proxy_call_foreign_function',
  'proxy_grpc_call', 'proxy_grpc_stream', 'proxy_grpc_send', 'proxy_grpc_cancel', 'proxy_grpc_close',
  // ABI 0.1.0 names.
  'proxy_get_configuration', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache',
]);

/** WASI functions linked for SDK runtimes (namespaces `wasi_snapshot_preview1` and the older `wasi_unstable`). */
export const WASI_MODULES: ReadonlySet<string> = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);
export const WASI_FUNCTIONS: ReadonlySet<string> = new Set([
  'fd_write', 'fd_read', 'fd_close', 'fd_seek', 'fd_fdstat_get', 'fd_prestat_get', 'fd_prestat_dir_name',
  'clock_time_get', 'clock_res_get', 'random_get', 'environ_sizes_get', 'environ_get', 'args_sizes_get', 'args_get',
  'proc_exit', 'sched_yield', 'poll_oneoff',
]);
