package io.wakeport.config;

import java.util.Map;

/**
 * Pages of the operator's own ({@code pages:}), by status ({@code "503"}) or {@code "waiting"}: the
 * root's for every tenant and for hosts no tenant serves, a tenant's over the root's.
 */
public record PageTemplates(Map<String, PageTemplate> byKey) {

  public static final String WAITING = "waiting";
  public static final PageTemplates NONE = new PageTemplates(Map.of());

  public PageTemplates {
    byKey = Map.copyOf(byKey);
  }

  /** The page for {@code status}, or null for the built-in one. */
  public PageTemplate forStatus(int status) {
    return byKey.get(Integer.toString(status));
  }

  /** The waiting page, or null for the built-in one. */
  public PageTemplate waiting() {
    return byKey.get(WAITING);
  }
}
