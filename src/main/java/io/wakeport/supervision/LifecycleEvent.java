package io.wakeport.supervision;

/**
 * One state change of an instance, as {@link Instance#transition} logs it: for the admin API's
 * event stream and each instance's recent history.
 *
 * @param route      empty for a tenant with one instance
 * @param pid        the process at the time, or -1
 * @param timeMillis wall clock, epoch milliseconds
 */
public record LifecycleEvent(String tenant, String route, InstanceState from, InstanceState to, String reason,
    long pid, int port, long timeMillis) {}
