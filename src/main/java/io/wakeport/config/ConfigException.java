package io.wakeport.config;

import java.util.List;
import java.util.stream.Collectors;

/** A config that cannot be used; carries every problem found, not only the first. */
public final class ConfigException extends Exception {

  private final List<ConfigProblem> problems;

  public ConfigException(List<ConfigProblem> problems) {
    // An inherited default with a problem would otherwise be reported once per tenant.
    super(problems.stream().distinct().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
    this.problems = problems.stream().distinct().toList();
  }

  public List<ConfigProblem> problems() {
    return problems;
  }
}
