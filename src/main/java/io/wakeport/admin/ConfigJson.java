package io.wakeport.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wakeport.config.ConfigProblem;
import io.wakeport.config.Durations;
import io.wakeport.config.InstanceConfig;
import io.wakeport.config.SupervisionPolicy;
import io.wakeport.config.TenantConfig;
import java.util.List;

/**
 * Config records as the admin API shows them. Environment values are left out (only their
 * names): they are where secrets usually live, and the API does not need them.
 */
final class ConfigJson {

  private ConfigJson() {}

  static JsonObject tenant(TenantConfig t) {
    SupervisionPolicy p = t.policy();
    JsonArray instances = new JsonArray();
    for (InstanceConfig ic : t.instances()) {
      instances.add(new JsonObject().put("route", ic.route().isEmpty() ? null : ic.route()).put("port", ic.port())
          .put("weight", ic.weight()).put("disabled", ic.disabled()).put("standby", ic.standby()));
    }
    return new JsonObject()
        .put("command", new JsonArray(t.command()))
        .put("workdir", t.baseDir().resolve(t.workdir()).normalize().toString())
        .put("envNames", new JsonArray(List.copyOf(new java.util.TreeSet<>(t.env().keySet()))))
        .put("instances", instances)
        .put("ready", t.readiness().kind().name().toLowerCase(java.util.Locale.ROOT))
        .put("startTimeout", Durations.format(t.startTimeout()))
        .put("responseTimeout", Durations.format(t.responseTimeout()))
        .put("idleTimeout", Durations.format(p.idleTimeout()))
        .put("stopSignal", p.stopSignal()).put("stopGrace", Durations.format(p.stopGrace()))
        .put("minRunning", p.minRunning()).put("maxQueue", p.maxQueue())
        .put("queueTimeout", Durations.format(p.queueTimeout()))
        .put("onChange", p.restartOnChange() ? "restart" : "next-start")
        .put("balance", t.balancing().method().name().toLowerCase(java.util.Locale.ROOT))
        .put("template", t.isTemplate())
        .put("registration", t.registration() == null ? null : new JsonObject()
            .put("ttl", Durations.format(t.registration().ttl())).put("maxMembers", t.registration().maxMembers())
            .put("addresses", new JsonArray(t.registration().addresses().stream().map(Object::toString).toList()))
            .put("secret", t.registration().secret() != null)) // whether one is set, never its value
        .put("origins", new JsonObject(new java.util.LinkedHashMap<String, Object>(t.origins())));
  }

  static JsonArray problems(List<ConfigProblem> problems) {
    JsonArray list = new JsonArray();
    for (ConfigProblem p : problems) {
      list.add(new JsonObject().put("file", p.file() == null ? null : p.file().toString())
          .put("line", p.line() > 0 ? p.line() : null).put("key", p.key() == null || p.key().isEmpty() ? null : p.key())
          .put("message", p.message()).put("text", p.toString()));
    }
    return list;
  }
}
