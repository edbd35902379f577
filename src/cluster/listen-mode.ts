// How servers bind when the waypoint runs as node:cluster workers (`waypoint run --workers N`).
// Data-plane listeners (VIPs, HBONE) are shared: in a worker a non-exclusive listen() is bound once by the
// primary and its connections are handed to the workers in turn (round robin), so every worker serves every
// VIP. Outside a cluster, exclusive and shared binds are the same thing.
import cluster from 'node:cluster';

/** `exclusive` for data-plane listeners: false in a cluster worker, so the workers share one socket. */
export const exclusiveDataPlaneListen = !cluster.isWorker;
