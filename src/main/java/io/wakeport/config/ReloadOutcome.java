package io.wakeport.config;

import java.util.List;

/**
 * How the last reload went: applied, or refused with its problems (the running config stays).
 *
 * @param atMillis epoch milliseconds; 0 when nothing was reloaded since the start
 */
public record ReloadOutcome(long atMillis, boolean applied, List<ConfigProblem> problems) {

  public ReloadOutcome {
    problems = List.copyOf(problems);
  }

  public static final ReloadOutcome NONE = new ReloadOutcome(0, true, List.of());
}
