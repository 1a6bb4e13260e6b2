package io.wakeport.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code wakeport check} finds wrong with the commands themselves: a program that does not
 * exist or cannot be executed, a workdir that is missing. Without it a typo shows only as a 503 on
 * the first request. Each tenant's command is resolved as a start would resolve it, with its own
 * port and route; a template's parts that depend on the label ({@code ${tenant}}) cannot be known
 * before a request names one, so only its other parts are looked at.
 */
public final class CommandCheck {

  private CommandCheck() {}

  /**
   * @param searchPath the PATH a child gets when its tenant sets none (wakeport's own)
   */
  public static List<ConfigProblem> problems(WakeportConfig config, String searchPath) {
    List<ConfigProblem> problems = new ArrayList<>();
    for (TenantConfig tenant : config.tenants().values()) {
      if (tenant.command().isEmpty() || tenant.instances().isEmpty() && !tenant.isTemplate()) {
        continue;
      }
      InstanceConfig sample = tenant.instances().isEmpty() ? InstanceConfig.single(0) : tenant.instances().get(0);
      LaunchSpec spec = tenant.launchSpec(sample);
      boolean template = tenant.isTemplate();
      boolean workdirKnown = !(template && tenant.workdir().contains("${"));
      if (workdirKnown && !Files.isDirectory(spec.workdir())) {
        problems.add(at(tenant, "workdir", "directory " + spec.workdir()
            + (Files.exists(spec.workdir()) ? " is not a directory" : " does not exist")));
        continue; // a relative program is looked for there: one problem, not two
      }
      if (template && tenant.command().get(0).contains("${")) {
        continue;
      }
      String program = spec.argv().get(0);
      String why = program.contains("/") ? unusable(Path.of(program))
          : notOnPath(program, tenant.env().getOrDefault("PATH", searchPath));
      if (why != null) {
        problems.add(at(tenant, "command", why));
      }
    }
    return problems;
  }

  /** Null when {@code file} can be executed, else why not. */
  private static String unusable(Path file) {
    if (!Files.exists(file)) {
      return "program " + file + " does not exist";
    }
    if (!Files.isRegularFile(file)) {
      return "program " + file + " is not a file";
    }
    if (!Files.isExecutable(file)) {
      return "program " + file + " is not executable (chmod +x " + file + ")";
    }
    return null;
  }

  /** Null when {@code program} is an executable file in one of {@code searchPath}'s directories, else why not. */
  private static String notOnPath(String program, String searchPath) {
    if (searchPath == null || searchPath.isEmpty()) {
      return "program " + program + " cannot be found: there is no PATH";
    }
    boolean foundUnusable = false;
    for (String dir : searchPath.split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(program);
      if (Files.isRegularFile(candidate)) {
        if (Files.isExecutable(candidate)) {
          return null;
        }
        foundUnusable = true;
      }
    }
    return "program " + program + (foundUnusable ? " is on PATH but not executable" : " is not on PATH")
        + " (" + searchPath + ")";
  }

  private static ConfigProblem at(TenantConfig tenant, String key, String message) {
    Map<String, String> origins = tenant.origins();
    String own = "tenants." + tenant.name() + "." + key;
    String where = origins.containsKey(own) ? origins.get(own) : origins.get("defaults." + key);
    String name = origins.containsKey(own) || !origins.containsKey("defaults." + key) ? own : "defaults." + key;
    if (where == null) {
      where = origins.get("tenants." + tenant.name());
    }
    int colon = where == null ? -1 : where.lastIndexOf(':');
    if (colon < 0) {
      return new ConfigProblem(null, 0, name, message);
    }
    return new ConfigProblem(Path.of(where.substring(0, colon)), Integer.parseInt(where.substring(colon + 1)), name,
        message);
  }
}
