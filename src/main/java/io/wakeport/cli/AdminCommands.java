package io.wakeport.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wakeport.admin.PasswordHash;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The commands that talk to a running wakeport through its admin API ({@link AdminClient}), and
 * {@code hash-password} for the config's admin users. Exit codes: 0 done, 1 wakeport refused or
 * failed it, 2 unusable config or arguments, 3 wakeport cannot be reached.
 */
final class AdminCommands {

  private AdminCommands() {}

  /** What every admin command shares: the config file, as for run. */
  abstract static class Base implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "YAML config file (the one wakeport runs with)")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() {
      try (AdminClient client = AdminClient.forConfig(config, System.getenv())) {
        return run(client);
      } catch (AdminClient.Failure e) {
        System.err.println("wakeport: " + e.getMessage());
        return e.exitCode;
      }
    }

    abstract int run(AdminClient client) throws AdminClient.Failure;

    /** 0 for a 2xx answer; else its message on stderr and 1. */
    static int report(AdminClient.Response r) {
      if (r.status() / 100 == 2) {
        return 0;
      }
      System.err.println("wakeport: " + r.message() + " (HTTP " + r.status() + ")");
      return AdminClient.REFUSED;
    }
  }

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Command(name = "status", description = "Show each tenant's instances (state, pid, port, uptime, requests in flight, "
      + "mode, weight, last cold start), and on a cluster node the nodes, placements and forwarded requests; with "
      + "TENANT, its instances and their recent state changes.")
  static final class Status extends Base {
    @Parameters(arity = "0..1", paramLabel = "TENANT")
    String tenant;

    @Override
    int run(AdminClient client) throws AdminClient.Failure {
      AdminClient.Response r = client.get(tenant == null ? "/api/tenants" : "/api/tenants/" + encode(tenant));
      if (r.status() != 200) {
        return report(r);
      }
      JsonArray tenants = tenant == null ? r.json().getJsonArray("tenants") : new JsonArray().add(r.json());
      System.out.print(table(tenants));
      if (tenant == null) {
        // A cluster node's nodes, placements and forwarding; nothing on a single machine.
        AdminClient.Response cluster = client.get("/api/cluster");
        if (cluster.status() == 200 && cluster.json().getBoolean("enabled", false)) {
          System.out.print("\n" + clusterSection(cluster.json()));
        }
      }
      if (tenant != null) {
        for (Object o : r.json().getJsonArray("instances")) {
          JsonObject instance = (JsonObject) o;
          for (Object e : instance.getJsonArray("recentEvents")) {
            JsonObject event = (JsonObject) e;
            System.out.println(event.getString("time") + "  " + name(instance) + "  " + event.getString("from") + " -> "
                + event.getString("to") + "  (" + event.getString("reason") + ")");
          }
        }
      }
      return 0;
    }

    static String table(JsonArray tenants) {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"TENANT", "STATE", "PID", "PORT", "UPTIME", "IN-FLIGHT", "MODE", "WEIGHT", "COLD START"});
      // Members that registered themselves come apart, below: they are not in the config.
      List<String[]> registered = new ArrayList<>();
      registered.add(new String[] {"REGISTERED", "STATE", "ADDRESS", "IN-FLIGHT", "MODE", "WEIGHT", "LOAD",
          "LAST REPORT"});
      for (Object t : tenants) {
        for (Object o : ((JsonObject) t).getJsonArray("instances")) {
          JsonObject i = (JsonObject) o;
          if (i.getBoolean("registered", false)) {
            registered.add(new String[] {name(i), i.getString("state"), str(i.getValue("address")),
                str(i.getValue("inFlight")), str(i.getValue("mode")), str(i.getValue("weight")),
                str(i.getValue("load")), str(i.getValue("lastReport"))});
            continue;
          }
          JsonObject cold = i.getJsonObject("lastColdStart");
          Long uptime = i.getLong("uptimeMillis");
          // A member on another machine shows its address where a local instance shows its port.
          Object where = i.getValue("address") != null ? i.getValue("address") : i.getValue("port");
          rows.add(new String[] {name(i), i.getString("state"), str(i.getValue("pid")), str(where),
              uptime == null ? "-" : duration(uptime), str(i.getValue("inFlight")), str(i.getValue("mode")),
              str(i.getValue("weight")), cold == null ? "-" : cold.getLong("millis") + " ms at " + cold.getString("at")});
        }
      }
      return columns(rows) + (registered.size() > 1 ? "\n" + columns(registered) : "");
    }

    /** {@code /api/cluster}'s JSON as text: this node, every node, the placements, the forwarded counts. */
    static String clusterSection(JsonObject json) {
      StringBuilder sb = new StringBuilder("CLUSTER ").append(plain(json.getValue("cluster"))).append("  this node ")
          .append(plain(json.getValue("node"))).append(json.getBoolean("draining", false) ? " (draining)" : "")
          .append("  ").append(plain(json.getValue("members"))).append(" members\n");
      JsonArray nodes = json.getJsonArray("nodes", new JsonArray());
      // A node without labels publishes an empty map: the column only when some node has one.
      boolean labels = nodes.stream().anyMatch(n -> n instanceof JsonObject o && hasLabels(o.getValue("labels")));
      List<String[]> rows = new ArrayList<>();
      rows.add(labels ? new String[] {"NODE", "ALIVE", "DRAINING", "FORWARD", "PLACED/MAX", "LABELS"}
          : new String[] {"NODE", "ALIVE", "DRAINING", "FORWARD", "PLACED/MAX"});
      for (Object o : nodes) {
        if (!(o instanceof JsonObject n)) {
          continue;
        }
        String[] row = {plain(n.getValue("node")) + (n.getBoolean("self", false) ? " *" : ""),
            n.getBoolean("alive", false) ? "yes" : "no", n.getBoolean("draining", false) ? "yes" : "no",
            plain(n.getValue("forward")), plain(n.getValue("placements")) + "/" + plain(n.getValue("maxRunning"))};
        if (labels) {
          Object l = n.getValue("labels");
          row = Arrays.copyOf(row, 6);
          row[5] = l instanceof JsonArray a ? plain(String.join(",", a.stream().map(String::valueOf).toList()))
              : l instanceof JsonObject m ? plain(String.join(",", new java.util.TreeMap<>(m.getMap()).entrySet()
                  .stream().map(e -> e.getKey() + "=" + e.getValue()).toList())) : plain(l);
        }
        rows.add(row);
      }
      sb.append(columns(rows));
      JsonObject placements = json.getJsonObject("placements", new JsonObject());
      if (!placements.isEmpty()) {
        List<String[]> placed = new ArrayList<>();
        placed.add(new String[] {"PLACED", "NODE"});
        new java.util.TreeMap<>(placements.getMap()).forEach((key, node) -> placed.add(new String[] {plain(key),
            plain(node) + (String.valueOf(node).equals(json.getString("node")) ? " (here)" : "")}));
        sb.append('\n').append(columns(placed));
      }
      JsonObject forwarded = json.getJsonObject("forwarded", new JsonObject());
      StringBuilder out = new StringBuilder();
      new java.util.TreeMap<>(forwarded.getJsonObject("out", new JsonObject()).getMap()).forEach((node, count) ->
          out.append(out.length() == 0 ? "" : ", ").append(plain(node)).append(' ').append(plain(count)));
      return sb.append("\nFORWARDED in ").append(plain(forwarded.getValue("in"))).append("  out ")
          .append(out.length() == 0 ? "-" : out).append('\n').toString();
    }

    static boolean hasLabels(Object labels) {
      return labels != null && !(labels instanceof JsonObject m && m.isEmpty())
          && !(labels instanceof JsonArray l && l.isEmpty());
    }

    /** A value another node published, safe to print: control characters (terminal escapes) as '?'. */
    private static String plain(Object value) {
      return value == null ? "-" : value.toString().replaceAll("\\p{Cntrl}", "?");
    }

    private static String columns(List<String[]> rows) {
      int[] widths = new int[rows.get(0).length];
      for (String[] row : rows) {
        for (int c = 0; c < row.length; c++) {
          widths[c] = Math.max(widths[c], row[c].length());
        }
      }
      StringBuilder sb = new StringBuilder();
      for (String[] row : rows) {
        for (int c = 0; c < row.length; c++) {
          sb.append(c == row.length - 1 ? row[c] : String.format("%-" + (widths[c] + 2) + "s", row[c]));
        }
        sb.append('\n');
      }
      return sb.toString();
    }

    private static String str(Object value) {
      return value == null ? "-" : value.toString();
    }

    private static String duration(long millis) {
      Duration d = Duration.ofMillis(millis);
      return d.toDays() > 0 ? d.toDays() + "d" + d.toHoursPart() + "h"
          : d.toHours() > 0 ? d.toHours() + "h" + d.toMinutesPart() + "m"
          : d.toMinutes() > 0 ? d.toMinutes() + "m" + d.toSecondsPart() + "s" : d.toSeconds() + "s";
    }
  }

  /** {@code tenant} or {@code tenant/route}, as the status table shows them. */
  static String name(JsonObject instance) {
    String route = instance.getString("route");
    return instance.getString("tenant") + (route == null ? "" : "/" + route);
  }

  /** start, stop, restart, drain and enable on TENANT or TENANT/ROUTE. */
  abstract static class Action extends Base {
    @Parameters(arity = "1", paramLabel = "TENANT[/ROUTE]")
    String target;

    abstract String action();

    @Override
    int run(AdminClient client) throws AdminClient.Failure {
      int slash = target.indexOf('/');
      String path = slash < 0 ? "/api/tenants/" + encode(target) + "/" + action()
          : "/api/tenants/" + encode(target.substring(0, slash)) + "/routes/" + encode(target.substring(slash + 1))
              + "/" + action();
      AdminClient.Response r = client.post(path, null);
      if (r.status() != 200) {
        return report(r);
      }
      for (Object o : r.json().getJsonArray("instances")) {
        JsonObject i = (JsonObject) o;
        if (slash < 0 || target.substring(slash + 1).equals(i.getString("route"))) {
          System.out.println(name(i) + ": " + i.getString("state")
              + (i.getValue("pid") == null ? "" : " (pid " + i.getValue("pid") + ", port " + i.getValue("port") + ")")
              + (i.getString("mode") == null ? "" : ", " + i.getString("mode")));
        }
      }
      return 0;
    }
  }

  @Command(name = "start", description = "Start a tenant (every route) or one route, and wait until it is ready.")
  static final class Start extends Action {
    String action() {
      return "start";
    }
  }

  @Command(name = "stop", description = "Stop a tenant (every route) or one route now; the next request starts it again.")
  static final class Stop extends Action {
    String action() {
      return "stop";
    }
  }

  @Command(name = "restart", description = "Restart a tenant's running routes one at a time (each ready before the "
      + "next stops), or one route.")
  static final class Restart extends Action {
    String action() {
      return "restart";
    }
  }

  @Command(name = "drain", description = "No new sessions for a route (or every route) of a tenant with several; "
      + "sessions already on it go on, then it idles out. `enable` undoes it.")
  static final class Drain extends Action {
    String action() {
      return "drain";
    }
  }

  @Command(name = "enable", description = "Undo drain, disable or standby: the route takes new sessions again.")
  static final class Enable extends Action {
    String action() {
      return "enable";
    }
  }

  @Command(name = "drain-node", description = "Stop placing instances on this cluster node; those it runs idle out "
      + "(then their tenants start on other nodes).")
  static final class DrainNode extends Base {
    @Override
    int run(AdminClient client) throws AdminClient.Failure {
      return nodeAction(client, "/api/cluster/drain", " drains: nothing new is placed on it");
    }
  }

  /** POSTs a cluster action on this node and says what it did ("node n1" + {@code done}). */
  private static int nodeAction(AdminClient client, String path, String done) throws AdminClient.Failure {
    AdminClient.Response r = client.post(path, null);
    if (r.status() == 200) {
      System.out.println("node " + r.json().getString("node") + done);
      return 0;
    }
    return Base.report(r);
  }

  @Command(name = "undrain-node", description = "Place instances on this cluster node again after drain-node, "
      + "without a restart.")
  static final class UndrainNode extends Base {
    @Override
    int run(AdminClient client) throws AdminClient.Failure {
      return nodeAction(client, "/api/cluster/undrain", " undrained: instances are placed on it again");
    }
  }

  @Command(name = "reload", description = "Apply the config files now, as HUP does; prints the problems when refused.")
  static final class Reload extends Base {
    @Override
    int run(AdminClient client) throws AdminClient.Failure {
      AdminClient.Response r = client.post("/api/reload", null);
      if (r.status() == 200) {
        System.out.println("reloaded");
        return 0;
      }
      if (r.status() == 409) {
        System.err.println("wakeport: config not reloaded, still serving the previous one:");
        for (Object p : r.json().getJsonArray("problems")) {
          System.err.println("  " + ((JsonObject) p).getString("text"));
        }
        return AdminClient.REFUSED;
      }
      return report(r);
    }
  }

  @Command(name = "logs", description = "Print the last lines of a backend's log; -f follows it.")
  static final class Logs extends Base {
    @Parameters(arity = "1", paramLabel = "TENANT[/ROUTE]")
    String target;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines until interrupted.")
    boolean follow;

    @Option(names = {"-n", "--lines"}, defaultValue = "100", description = "Lines to print first (default ${DEFAULT-VALUE}).")
    int lines;

    @Override
    int run(AdminClient client) throws AdminClient.Failure {
      int slash = target.indexOf('/');
      String tenant = slash < 0 ? target : target.substring(0, slash);
      String path = "/api/tenants/" + encode(tenant) + "/logs?lines=" + lines
          + (slash < 0 ? "" : "&route=" + encode(target.substring(slash + 1)));
      if (!follow) {
        AdminClient.Response r = client.get(path);
        if (r.status() != 200) {
          return report(r);
        }
        System.out.print(r.body());
        return 0;
      }
      AdminClient.Response r = client.stream(path + "&follow=true", "log", line -> {
        System.out.println(line);
        System.out.flush();
      });
      if (r.status() != 200) {
        return report(r);
      }
      System.err.println("wakeport: the log stream ended (wakeport stopped?)");
      return AdminClient.UNREACHABLE;
    }
  }

  @Command(name = "hash-password", description = "Hash a password for admin.users (read from the terminal twice, or "
      + "one line of standard input).")
  static final class HashPassword implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() throws Exception {
      char[] password;
      java.io.Console console = System.console();
      if (console != null) {
        password = console.readPassword("password: ");
        char[] again = console.readPassword("again: ");
        if (password == null || !Arrays.equals(password, again)) {
          System.err.println("wakeport: the passwords differ");
          return 2;
        }
      } else {
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
            .readLine();
        password = line == null ? new char[0] : line.toCharArray();
      }
      if (password.length < 8) {
        System.err.println("wakeport: use a password of at least 8 characters");
        return 2;
      }
      System.out.println(PasswordHash.hash(password));
      return 0;
    }
  }

}
