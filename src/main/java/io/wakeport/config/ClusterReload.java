package io.wakeport.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reload's {@code cluster:} section. Hazelcast membership cannot change while the node runs,
 * so a section that differs from the running one is not applied: the node keeps the settings it
 * started with, and the reload says so (a log line and a warning in its outcome).
 */
public final class ClusterReload {

  private static final Logger log = LoggerFactory.getLogger(ClusterReload.class);

  private ClusterReload() {}

  /** {@code next} with {@code running}'s cluster settings, and a warning when the files say otherwise. */
  public static WakeportConfig keepRunning(WakeportConfig running, WakeportConfig next) {
    ClusterSettings now = running.cluster();
    ClusterSettings read = next.cluster();
    if (Objects.equals(now, read)) {
      return next;
    }
    String what = now == null ? "cluster section added" : read == null ? "cluster section removed"
        : "cluster section changed (" + String.join(", ", changed(now, read)) + ")";
    String message = what + ": takes effect on restart (cluster membership cannot change live); this node keeps "
        + (now == null ? "running as a single machine" : "the cluster settings it started with");
    log.warn("config: {}", message);
    return next.withCluster(now, new ConfigProblem(next.file(), 0, "cluster", message));
  }

  /** The keys whose values differ; never the secret's value. */
  static List<String> changed(ClusterSettings a, ClusterSettings b) {
    List<String> keys = new ArrayList<>();
    if (!a.node().equals(b.node())) {
      keys.add("node");
    }
    if (!a.bind().equals(b.bind())) {
      keys.add("bind");
    }
    if (!a.members().equals(b.members())) {
      keys.add("members");
    }
    if (!a.forwardListen().equals(b.forwardListen())) {
      keys.add("forward-listen");
    }
    if (!a.secret().equals(b.secret())) {
      keys.add("secret");
    }
    if (!a.labels().equals(b.labels())) {
      keys.add("labels");
    }
    if (!Objects.equals(a.tls(), b.tls())) {
      keys.add("tls");
    }
    return keys;
  }
}
