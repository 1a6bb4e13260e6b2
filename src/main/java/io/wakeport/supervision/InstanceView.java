package io.wakeport.supervision;

import io.wakeport.routing.MemberMode;
import java.util.List;

/**
 * What the supervisor knows of one instance at one moment, taken on its context so the fields
 * agree with each other: for the admin API. Times are epoch milliseconds, 0 when never.
 *
 * @param mode               the operator's override, or null (the config decides)
 * @param weight             the operator's weight, or 0 (the config decides)
 * @param readySinceMillis   when it last became ready (uptime), 0 unless READY
 * @param lastStartMillis    when its last start completed
 * @param lastStartDuration  how long that start took, in milliseconds, or -1
 * @param backoffRemaining   milliseconds until a start is allowed again, 0 unless BACKOFF
 * @param recent             its last state changes, oldest first
 */
public record InstanceView(String tenant, String stateName, String route, InstanceState state, long pid, int port,
    int inFlight, MemberMode mode, int weight, long readySinceMillis, long lastActivityMillis, long lastStartMillis,
    long lastStartDuration, long backoffRemaining, int oomKills, boolean keepWarm, boolean retired,
    List<LifecycleEvent> recent, RecentTraffic.Minute lastMinute) {

  public InstanceView {
    recent = List.copyOf(recent);
  }
}
