package io.wakeport.config;

import io.wakeport.accesslog.AccessLogSettings;
import io.wakeport.config.RoutesSection.RouteDraft;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads a wakeport YAML file into a validated {@link WakeportConfig}. The only place that parses YAML.
 * Every problem is collected with its file, line and key; the config is used only if there are none.
 */
public final class ConfigLoader {

  public static final Pattern TENANT_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final List<String> ROOT_KEYS = List.of(
      "listen", "state-dir", "admin", "proxy", "access-log", "max-running", "max-starting", "on-exit", "containment",
      "watch", "metrics", "include", "pages", "https", "cluster",
      "defaults", "tenants");
  private ConfigLoader() {}

  /** Loads and validates {@code file}, assigning range ports and remembering them in the state dir. */
  public static WakeportConfig load(Path file) throws ConfigException {
    return read(file, true, System.getenv());
  }

  /** As {@link #load(Path)}, with {@code ${env:NAME}} read from {@code environment}. */
  public static WakeportConfig load(Path file, Map<String, String> environment) throws ConfigException {
    return read(file, true, environment);
  }

  /** Validates {@code file} (and what it includes) without writing anything (for {@code wakeport check}). */
  public static WakeportConfig check(Path file) throws ConfigException {
    return read(file, false, System.getenv());
  }

  private static WakeportConfig read(Path file, boolean rememberPorts, Map<String, String> environment)
      throws ConfigException {
    Path path = file.toAbsolutePath().normalize();
    List<ConfigProblem> problems = new ArrayList<>();
    List<ConfigProblem> warnings = new ArrayList<>();
    Node root = compose(path, problems);
    if (root == null) {
      throw new ConfigException(problems);
    }
    YamlReader yaml = new YamlReader(path, problems, warnings, environment);
    KernelPorts kernel = KernelPorts.current();
    Map<String, NodeTuple> top = yaml.mapping(root, "");
    yaml.rejectUnknown(top, "", ROOT_KEYS);
    Path baseDir = path.getParent();

    String listenHost = "127.0.0.1";
    int listenPort = 8080;
    NodeTuple listen = top.get("listen");
    if (listen != null) {
      String value = yaml.string(listen.getValueNode(), "listen");
      if (value != null) {
        int colon = value.lastIndexOf(':');
        String host = colon < 0 ? "0.0.0.0" : value.substring(0, colon);
        String port = colon < 0 ? value : value.substring(colon + 1);
        try {
          listenPort = Integer.parseInt(port);
          if (listenPort < 0 || listenPort > 65535) throw new NumberFormatException();
          listenHost = host.isEmpty() ? "0.0.0.0" : host.replaceAll("^\\[|]$", "");
        } catch (NumberFormatException e) {
          yaml.problem(listen.getValueNode(), "listen", "must be host:port, such as 127.0.0.1:8080, not '" + value + "'");
        }
      }
    }

    Path stateDir = baseDir.resolve("var");
    NodeTuple state = top.get("state-dir");
    if (state != null) {
      String value = yaml.string(state.getValueNode(), "state-dir");
      if (value != null) stateDir = baseDir.resolve(value).normalize();
    }

    ProxySettings proxy = ProxySection.read(yaml, top.get("proxy"));
    HttpsSettings https = HttpsSection.read(yaml, top.get("https"), baseDir, listenPort);
    AccessLogSettings accessLog = AccessLogSection.read(yaml, top.get("access-log"), baseDir, stateDir);
    AdminSettings admin = AdminSection.read(yaml, top.get("admin"), baseDir, stateDir, listenPort);
    SupervisorSettings supervisor = SupervisionSection.readGlobal(yaml, top);
    WatchSettings watch = WatchSection.read(yaml, top.get("watch"));
    AcmeSettings acme = AcmeSection.read(yaml, top.get("https"), baseDir, stateDir, proxy.client().headerTimeout());
    ClusterSettings cluster = ClusterSection.read(yaml, top.get("cluster"), baseDir, listenPort, admin);
    // metrics: true (the default) or false; what it measures is in docs/metrics.md.
    boolean metrics = true;
    if (top.containsKey("metrics")) {
      Boolean value = yaml.bool(top.get("metrics").getValueNode(), "metrics");
      metrics = value == null || value;
    }

    // Pages of the operator's own for every tenant, and for hosts that reach none (404).
    PageTemplates pages = PagesSection.readPages(yaml, top.containsKey("pages") ? top.get("pages").getValueNode() : null,
        "pages");

    Map<String, NodeTuple> defaults = Map.of();
    NodeTuple defaultsTuple = top.get("defaults");
    if (defaultsTuple != null) {
      defaults = yaml.mapping(defaultsTuple.getValueNode(), "defaults");
      yaml.rejectUnknown(defaults, "defaults", TenantSection.defaultableKeys());
    }

    List<TenantDraft> drafts = new ArrayList<>();
    Map<String, String> definedAt = new HashMap<>();
    NodeTuple tenantsTuple = top.get("tenants");
    if (tenantsTuple != null) {
      TenantSection.read(yaml, tenantsTuple, defaults, baseDir, drafts, definedAt, kernel);
    }
    List<Path> sources = new ArrayList<>(List.of(path));
    java.util.Set<Path> watchDirs = new java.util.LinkedHashSet<>(List.of(baseDir));
    List<String> includeGlobs = new ArrayList<>();
    NodeTuple include = top.get("include");
    if (include != null) {
      List<Node> defaultsNodes = defaultsTuple == null ? List.of() : List.of(defaultsTuple.getValueNode());
      for (Path included : includedFiles(yaml, include.getValueNode(), baseDir, watchDirs, includeGlobs)) {
        sources.add(included);
        Node includedRoot = compose(included, problems);
        if (includedRoot == null) {
          continue;
        }
        YamlReader other = yaml.forFile(included, defaultsNodes);
        Map<String, NodeTuple> entries = other.mapping(includedRoot, "");
        other.rejectUnknown(entries, "", List.of("tenants"));
        if (entries.containsKey("tenants")) {
          TenantSection.read(other, entries.get("tenants"), defaults, baseDir, drafts, definedAt, kernel);
        }
      }
    }
    if (tenantsTuple == null && include == null) {
      yaml.problem(root, "tenants", "is missing: the config must map at least one tenant (or include files that do)");
    }
    TenantSection.checkUnique(yaml, drafts, listenPort);
    problems.addAll(RulesSection.checkTargets(drafts, definedAt.keySet()));
    if (https.enabled()) {
      for (TenantDraft d : drafts) {
        List<String> names = new ArrayList<>(d.config().hosts());
        if (d.config().template() != null) {
          d.config().template().suffixes().forEach(suffix -> names.add("*." + suffix));
        }
        for (String host : names) {
          // ACME covers configured hosts at start, and template hosts at their first handshake with on-demand.
          boolean byAcme = acme != null && (!host.startsWith("*.") || acme.onDemand() != null);
          if (!byAcme && !HttpsSection.covered(https, host)) {
            yaml.warning(d.node(), "tenants." + d.config().name() + ".hosts", host + " is named by no https "
                + "certificate: its https clients would get the default one, made for other names");
          }
        }
      }
    }

    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    Map<String, TenantConfig> tenants = PortsSection.assign(path, stateDir, drafts, listenPort, rememberPorts);
    return new WakeportConfig(path, List.copyOf(sources), List.copyOf(watchDirs), List.copyOf(includeGlobs),
        listenHost, listenPort, stateDir,
        proxy, accessLog, admin, supervisor, watch, metrics, pages, https, acme, cluster, tenants,
        warnings.stream().distinct().toList());
  }

  /**
   * The files an {@code include} list names: each entry is a path relative to the main file's
   * directory whose last part may be a glob ({@code tenants.d/*.yaml}). Sorted, so the order of
   * a directory listing never changes the result. Their directories are watched for new files.
   */
  private static List<Path> includedFiles(YamlReader yaml, Node node, Path baseDir, java.util.Set<Path> watchDirs,
      List<String> includeGlobs) {
    List<Path> files = new ArrayList<>();
    for (String pattern : yaml.stringList(node, "include")) {
      Path full = baseDir.resolve(pattern).normalize();
      Path dir = full.getParent();
      String name = full.getFileName().toString();
      if (dir.toString().matches(".*[*?\\[{].*")) {
        yaml.problem(node, "include", "'" + pattern + "': only the file name may hold wildcards");
        continue;
      }
      watchDirs.add(dir);
      includeGlobs.add("glob:" + full.toString().replace("\\", "\\\\"));
      boolean glob = name.matches(".*[*?\\[{].*");
      if (!glob) {
        if (Files.isRegularFile(full)) {
          files.add(full);
        } else {
          yaml.problem(node, "include", "'" + pattern + "': no such file " + full);
        }
        continue;
      }
      if (!Files.isDirectory(dir)) {
        yaml.problem(node, "include", "'" + pattern + "': no such directory " + dir);
        continue;
      }
      java.nio.file.PathMatcher matcher = dir.getFileSystem().getPathMatcher("glob:" + name);
      try (var listing = Files.list(dir)) {
        listing.filter(p -> matcher.matches(p.getFileName()) && Files.isRegularFile(p)).sorted().forEach(files::add);
      } catch (IOException e) {
        yaml.problem(node, "include", "'" + pattern + "': cannot list " + dir + ": " + e.getMessage());
      }
    }
    return files;
  }

  private static Node compose(Path path, List<ConfigProblem> problems) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    if (Files.isDirectory(path)) {
      // Opening a directory succeeds on Linux; only the first read fails, inside the YAML parser.
      problems.add(new ConfigProblem(path, 0, "", "is a directory, not a config file"));
      return null;
    }
    try (Reader reader = Files.newBufferedReader(path)) {
      Node root = new Yaml(new SafeConstructor(options)).compose(reader);
      if (root == null) {
        problems.add(new ConfigProblem(path, 0, "", "the file is empty"));
      }
      return root;
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      problems.add(new ConfigProblem(path, line, "", "not valid YAML: " + e.getProblem()));
    } catch (IOException e) {
      problems.add(new ConfigProblem(path, 0, "", unreadable(e)));
    } catch (YAMLException e) {
      // The parser wraps a read error that happens after the file was opened.
      if (!(e.getCause() instanceof IOException io)) throw e;
      problems.add(new ConfigProblem(path, 0, "", unreadable(io)));
    }
    return null;
  }

  /** What an operator needs to hear about a file that cannot be read, without the exception's class name. */
  private static String unreadable(IOException e) {
    if (e instanceof NoSuchFileException) return "no such file";
    if (e instanceof AccessDeniedException) return "cannot be read: permission denied";
    return "cannot be read: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
  }

  /** 512KB, 10MB, 1GB or a number of bytes; -1 when unreadable or too large for a long. */
  static long parseSize(String text) {
    java.util.regex.Matcher m = Pattern.compile("(\\d+)\\s*(B|[KMG](?:i?B)?)?", Pattern.CASE_INSENSITIVE).matcher(text.trim());
    if (!m.matches()) return -1;
    String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
    long factor = switch (unit.charAt(0)) {
      case 'K' -> 1024L;
      case 'M' -> 1024L * 1024;
      case 'G' -> 1024L * 1024 * 1024;
      default -> 1;
    };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), factor);
    } catch (ArithmeticException | NumberFormatException e) {
      return -1;
    }
  }

  /** A tenant as read, before ports from ranges are assigned. */
  record TenantDraft(TenantConfig config, Node node, Integer fixedPort, List<RouteDraft> routes,
      List<RulesSection.RuleDraft> rules, int rangeFirst, int rangeLast) {}

  /** A tenant key as used: its node and its full name, under the tenant or under defaults. */
  record Field(Node node, String key) {}
}
