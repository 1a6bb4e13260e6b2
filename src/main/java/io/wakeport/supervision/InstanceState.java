package io.wakeport.supervision;

/** The lifecycle of one backend instance; {@link Instance} is the only place that changes it. */
public enum InstanceState {
  /** No process of ours; the port may still be served by someone else's (probed on demand). */
  STOPPED,
  /** Waiting for a start slot, spawned, or checked for readiness; requests wait. */
  STARTING,
  /** Readiness check passed: requests are forwarded. */
  READY,
  /** Being stopped; requests that arrive wait for the stop and start it again. */
  STOPPING,
  /** Exited on its own while ready; the next request starts it again. */
  CRASHED,
  /** Failed or crashed too often lately: no start until the backoff ends; requests get 503. */
  BACKOFF,
  /** A member on another machine that passes its health checks: requests are forwarded (no process of ours). */
  UP,
  /** A member on another machine that failed its health checks: out of balancing, its sessions fail over. */
  DOWN
}
