package io.wakeport.config;

import java.time.Duration;
import java.util.List;

/**
 * Marks a tenant made from a host pattern such as {@code *.apps.example.com}: one tenant per
 * first label, named after it, with command, workdir, env and port derived through {@code ${tenant}}.
 *
 * @param name     the template tenant's own name in the config
 * @param suffixes what follows the first label, such as {@code apps.example.com}
 * @param exists   a path template ({@code /srv/customers/${tenant}}) that must exist for a label
 *                 to be a tenant; null: every valid label is
 * @param maxTenants how many of its tenants (labels admitted and not yet forgotten) may exist at
 *                 once; 0: no bound of its own, which only a template with {@code exists} may have
 * @param releaseAfter how long a derived tenant must be stopped and without requests before its
 *                 port and its max-tenants slot are given back; zero: never for that reason alone
 *                 (a full range still takes the port of the least recently used stopped tenant)
 * @param label    for a derived tenant, the label it was made for; null on the template itself
 * @param portFirst first port of the range derived tenants take theirs from
 * @param portLast  last port of that range
 */
public record Template(String name, List<String> suffixes, String exists, int maxTenants, Duration releaseAfter,
    String label, int portFirst, int portLast) {

  public Template {
    suffixes = List.copyOf(suffixes);
  }

  /** The same template with its port range set. */
  Template withRange(int first, int last) {
    return new Template(name, suffixes, exists, maxTenants, releaseAfter, label, first, last);
  }

  /** The template as carried by the tenant it made for {@code tenantLabel}. */
  Template forLabel(String tenantLabel) {
    return new Template(name, suffixes, exists, maxTenants, releaseAfter, tenantLabel, portFirst, portLast);
  }
}
