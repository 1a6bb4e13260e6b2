package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.wakeport.accesslog.AccessLogSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The YAML config: what it accepts, what it rejects and where it says the problem is, and the ports it hands out. */
class ConfigLoaderTest {

  @TempDir Path dir;

  private static final String HEAD = "listen: 127.0.0.1:18080\nstate-dir: var\n";

  // ---- accepted configs ----------------------------------------------------------------------

  @Test
  void theShippedDemoConfigIsValidAndHasThreeTenants() throws Exception {
    WakeportConfig config = ConfigLoader.check(Path.of("conf", "wakeport.yaml"));
    assertEquals(List.of("acme", "globex", "initech"), List.copyOf(config.tenants().keySet()));
    assertEquals("127.0.0.1", config.listenHost());
    assertEquals(8080, config.listenPort());
    assertEquals(Path.of("var").toAbsolutePath(), config.stateDir(), "state-dir is relative to the config file");
    assertEquals(List.of("acme.localhost", "www.acme.localhost"), config.tenants().get("acme").hosts());
    assertEquals(20999, port(config, "initech"));
  }

  @Test
  void theAdminListenerIsOnAtLoopback8081UnlessTurnedOff() throws Exception {
    String tenant = "tenants:\n  acme:\n    paths: [/acme]\n    command: [app]\n";
    AdminSettings absent = ConfigLoader.check(write(tenant)).admin();
    assertEquals(true, absent.enabled());
    assertEquals("127.0.0.1:8081", absent.address());
    assertEquals(dir.resolve("var/admin.token"), absent.tokenFile(), "the token lives in state-dir");
    assertEquals(true, absent.tokenMode());
    assertEquals(false, ConfigLoader.check(write("admin: off\n" + tenant)).admin().enabled());
    AdminSettings unix = ConfigLoader.check(write("admin: {listen: 'unix:run/admin.sock'}\n" + tenant)).admin();
    assertEquals(dir.resolve("run/admin.sock"), unix.socket(), "relative to the config file");
    AdminSettings users = ConfigLoader.check(write("""
        admin:
          listen: "[::1]:9000"
          users: [{name: ops, password: "pbkdf2-sha256$600000$c2FsdA$a2V5"}]
        """ + tenant)).admin();
    assertEquals("::1", users.host());
    assertEquals(9000, users.port());
    assertEquals("ops", users.users().get(0).name());
  }

  @Test
  void adminProblemsNameTheirLineAndKeyAndNeverEchoAPassword() throws Exception {
    String tenant = "tenants:\n  acme:\n    paths: [/acme]\n    command: [app]\n";
    ConfigProblem listen = only(problems(write("admin:\n  listen: nowhere\n" + tenant)));
    assertEquals("admin.listen", listen.key());
    assertEquals(4, listen.line());
    ConfigProblem front = only(problems(write("admin:\n  listen: 127.0.0.1:18080\n" + tenant)));
    assertTrue(front.message().contains("front port"), front::toString);
    ConfigProblem clear = only(problems(write("admin:\n  users:\n    - {name: ops, password: hunter2}\n" + tenant)));
    assertEquals("admin.users.password", clear.key());
    assertEquals(5, clear.line());
    assertTrue(!clear.toString().contains("hunter2"), clear::toString);
    assertEquals("admin.bogus", only(problems(write("admin:\n  bogus: 1\n" + tenant))).key());
  }

  @Test
  void tenantsInheritDefaultsAndTheirOwnValueWins() throws Exception {
    WakeportConfig config = ConfigLoader.check(write("""
        defaults:
          command: [bin/app, "${port}"]
          start-timeout: 45s
        tenants:
          acme:
            paths: [/acme]
          globex:
            paths: [/globex]
            command: [bin/other]
            start-timeout: 500ms
        """));
    TenantConfig acme = config.tenants().get("acme");
    TenantConfig globex = config.tenants().get("globex");
    assertEquals(List.of("bin/app", "${port}"), acme.command());
    assertEquals(Duration.ofSeconds(45), acme.startTimeout());
    assertEquals(List.of("bin/other"), globex.command());
    assertEquals(Duration.ofMillis(500), globex.startTimeout());
    assertEquals(Duration.ofSeconds(60), acme.responseTimeout(), "the built-in default applies when nothing is set");
  }

  @Test
  void hostsAreLowerCasedAndATrailingSlashOnAPathIsDropped() throws Exception {
    TenantConfig acme = ConfigLoader.check(write("""
        tenants:
          acme:
            hosts: [Acme.Example]
            paths: [/acme/]
            command: [app]
        """)).tenants().get("acme");
    assertEquals(List.of("acme.example"), acme.hosts());
    assertEquals(List.of("/acme"), acme.paths());
  }

  // ---- rejected configs: every problem has file, line and key ---------------------------------

  @Test
  void aBadDurationIsReportedWithFileLineAndKey() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            start-timeout: soon
        """;
    Path file = write(yaml);
    ConfigProblem p = only(problems(file));
    assertEquals(file.toAbsolutePath().normalize(), p.file());
    assertEquals(7, p.line(), "1-based, counting the two head lines");
    assertEquals("tenants.acme.start-timeout", p.key());
    assertTrue(p.message().contains("soon"), p.message());
    assertTrue(p.toString().startsWith(p.file() + ":" + p.line() + ": tenants.acme.start-timeout: "), p.toString());
  }

  @Test
  void aMisspelledKeyIsReportedNotIgnored() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            comand: [app]
        """;
    List<ConfigProblem> problems = problems(write(yaml));
    ConfigProblem typo = find(problems, "tenants.acme.comand");
    assertEquals(lineOf("comand:"), typo.line());
    assertTrue(typo.message().contains("unknown key"), typo.message());
    find(problems, "tenants.acme.command"); // and the real command is then missing
  }

  @Test
  void aTenantNameThatCannotBeAFileNameIsRejected() throws Exception {
    String yaml = """
        tenants:
          ok:
            paths: [/ok]
            command: [app]
          Acme_1:
            paths: [/acme]
            command: [app]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.Acme_1", p.key());
    assertEquals(lineOf("Acme_1:"), p.line());
  }

  @Test
  void aTenantWithoutCommandIsRejected() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.acme.command", p.key());
    assertEquals(lineOf("acme:"), p.line());
  }

  @Test
  void aCommandWrittenAsAPlainStringIsRejectedBecauseItMustBeAList() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: ./run.sh acme
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.acme.command", p.key());
    assertEquals(lineOf("command:"), p.line());
    assertTrue(p.message().contains("must be a list"), p.message());
  }

  @Test
  void anUnknownPlaceholderIsRejected() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: [app, --port, "${prot}"]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.acme.command", p.key());
    assertEquals(lineOf("${prot}"), p.line());
    assertTrue(p.message().contains("${prot}"), p.message());
  }

  @Test
  void anUnknownPlaceholderInAnInheritedDefaultPointsAtTheDefault() throws Exception {
    String yaml = """
        defaults:
          env: {HOME_DIR: "/srv/${tenat}"}
        tenants:
          acme:
            paths: [/acme]
            command: [app]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("defaults.env.HOME_DIR", p.key());
    assertEquals(lineOf("${tenat}"), p.line());
  }

  @Test
  void aHostMappedToTwoTenantsNamesBothTenants() throws Exception {
    String yaml = """
        tenants:
          acme:
            hosts: [shop.example]
            command: [app]
          globex:
            hosts: [SHOP.example]
            command: [app]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    String text = p.toString();
    assertTrue(text.contains("acme") && text.contains("globex") && text.contains("shop.example"), text);
  }

  @Test
  void aPathMappedToTwoTenantsIsRejected() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/shop]
            command: [app]
          globex:
            paths: [/shop/]
            command: [app]
        """;
    String text = only(problems(write(yaml))).toString();
    assertTrue(text.contains("acme") && text.contains("globex") && text.contains("/shop"), text);
  }

  @Test
  void aFixedPortUsedByTwoTenantsIsRejected() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            port: 21000
          globex:
            paths: [/globex]
            command: [app]
            port: 21000
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertTrue(p.key().endsWith(".port"), p.key());
    assertTrue(p.toString().contains("21000") && p.toString().contains("acme") && p.toString().contains("globex"),
        p.toString());
  }

  @Test
  void aFixedPortEqualToTheListenPortIsRejected() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            port: 18080
        """;
    assertEquals("tenants.acme.port", only(problems(write(yaml))).key());
  }

  @Test
  void aTenantWithNeitherHostsNorPathsIsRejected() throws Exception {
    String yaml = """
        tenants:
          acme:
            command: [app]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.acme", p.key());
    assertEquals(lineOf("acme:"), p.line());
  }

  @Test
  void stripPrefixWithoutPathsIsRejectedAtItsLine() throws Exception {
    String yaml = """
        tenants:
          acme:
            hosts: [acme.example]
            strip-prefix: true
            command: [app]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.acme.strip-prefix", p.key());
    assertEquals(lineOf("strip-prefix: true"), p.line());
    assertTrue(p.message().contains("paths"), p.message());
  }

  @Test
  void rewriteIsReadWithItsDefaultsAndInheritedFromDefaults() throws Exception {
    String yaml = """
        defaults:
          command: [app]
          rewrite:
            urls: [HTTP://App.Internal:8080/, https://old.example.com/app/]
            cookie-domain: {.App.Internal: example.com, 127.0.0.1: ""}
            cookie-path: {/app/: /, /app/admin/: /admin/}
            own-address: false
        tenants:
          inherits:
            paths: [/inherits]
            strip-prefix: true
          own:
            paths: [/own]
            rewrite: {urls: ["http://[::1]:9000"]}
          plain:
            hosts: [plain.example]
            command: [app]
            rewrite: {}
        """;
    WakeportConfig config = ConfigLoader.check(write(yaml));
    TenantConfig inherits = config.tenants().get("inherits");
    assertTrue(inherits.stripPrefix());
    ResponseRewriting r = inherits.rewriting();
    assertFalse(r.ownAddress());
    assertEquals(List.of(new ResponseRewriting.Url("http", "app.internal", 8080, ""),
        new ResponseRewriting.Url("https", "old.example.com", 443, "/app")), r.urls());
    assertEquals(Map.of("app.internal", "example.com", "127.0.0.1", ""), r.cookieDomains());
    assertEquals(List.of("/app/admin/", "/app/"), List.copyOf(r.cookiePaths().keySet()), "longest prefix first");
    ResponseRewriting own = config.tenants().get("own").rewriting();
    assertEquals(List.of(new ResponseRewriting.Url("http", "[::1]", 9000, "")), own.urls());
    assertTrue(own.ownAddress(), "a tenant's own rewrite: replaces the inherited one whole");
    assertFalse(config.tenants().get("own").stripPrefix());
    assertEquals(ResponseRewriting.DEFAULT, config.tenants().get("plain").rewriting());
  }

  @Test
  void malformedRewriteValuesAreEachRejectedAtTheirLines() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            rewrite:
              urls: ["ftp://files.internal", "http://user@app.internal", "http://app.internal/?q"]
              cookie-domain: {"app internal": example.com}
              cookie-path: {app/: /}
              own-address: maybe
              url: [http://typo.internal]
        """;
    List<ConfigProblem> problems = problems(write(yaml));
    assertEquals(7, problems.size(), problems::toString);
    int urls = lineOf("urls:");
    assertEquals(3, problems.stream().filter(p -> p.key().equals("tenants.acme.rewrite.urls") && p.line() == urls)
        .count(), problems::toString);
    assertEquals(lineOf("cookie-domain:"), find(problems, "tenants.acme.rewrite.cookie-domain.app internal").line());
    assertEquals(lineOf("cookie-path:"), find(problems, "tenants.acme.rewrite.cookie-path.app/").line());
    assertEquals(lineOf("own-address: maybe"), find(problems, "tenants.acme.rewrite.own-address").line());
    assertEquals(lineOf("url: [http://typo"), find(problems, "tenants.acme.rewrite.url").line());
  }

  @Test
  void invalidYamlSyntaxIsReportedWithItsLine() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: app: oops
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals(lineOf("app: oops"), p.line());
    assertTrue(p.message().startsWith("not valid YAML"), p.message());
  }

  @Test
  void aKeyGivenTwiceIsRejected() throws Exception {
    String yaml = """
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            command: [other]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.acme.command", p.key());
    assertEquals(lineOf("command: [other]"), p.line());
  }

  @ParameterizedTest
  @ValueSource(strings = {"hosts: [all.example]", "paths: [/all]", "port: 21000", "strip-prefix: true"})
  void keysThatIdentifyOneTenantAreRejectedUnderDefaults(String entry) throws Exception {
    String yaml = """
        defaults:
          command: [app]
          %s
        tenants:
          acme:
            paths: [/acme]
        """.formatted(entry);
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("defaults." + entry.substring(0, entry.indexOf(':')), p.key());
    assertEquals(lineOf(entry), p.line());
  }

  @Test
  void everyProblemInAFileIsReportedNotOnlyTheFirst() throws Exception {
    String yaml = """
        listen: nowhere
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            start-timeout: soon
          globex:
            paths: [/globex]
            comand: [app]
          Bad_Name:
            paths: [/bad]
            command: [app]
        """;
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, yaml);
    List<ConfigProblem> problems = problems(file);
    assertEquals(Map.of(
            "listen", lineOf("listen:"),
            "tenants.acme.start-timeout", lineOf("soon"),
            "tenants.globex.comand", lineOf("comand"),
            "tenants.globex.command", lineOf("globex:"),
            "tenants.Bad_Name", lineOf("Bad_Name:")),
        problems.stream().collect(Collectors.toMap(ConfigProblem::key, ConfigProblem::line)));
  }

  @Test
  void aDirectoryGivenAsTheConfigIsOneProblemNamingIt() {
    // load too: wakeport run reads with load, and a reload must not throw past the watcher either.
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir));
    assertEquals(dir + ": is a directory, not a config file", e.getMessage());
    assertEquals(e.getMessage(), assertThrows(ConfigException.class, () -> ConfigLoader.check(dir)).getMessage());
  }

  @Test
  void aMissingConfigFileIsOneProblemNamingIt() {
    Path absent = dir.resolve("absent.yaml");
    assertEquals(absent + ": no such file",
        assertThrows(ConfigException.class, () -> ConfigLoader.load(absent)).getMessage());
  }

  @Test
  void anUnreadableConfigFileIsOneProblemNamingIt() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeFalse("root".equals(System.getProperty("user.name")),
        "root reads any file whatever its mode");
    Path file = write(tenants("20000-20009", "acme"));
    Files.setPosixFilePermissions(file, Set.of());
    assertEquals(file + ": cannot be read: permission denied",
        assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).getMessage());
  }

  // ---- ports --------------------------------------------------------------------------------

  @Test
  void rangePortsAreDistinctInRangeAndRememberedInTheStateDir() throws Exception {
    WakeportConfig config = ConfigLoader.load(write(tenants("20000-20009", "a", "b", "c", "d", "e")));
    Set<Integer> ports = new HashSet<>();
    for (String name : config.tenants().keySet()) {
      int port = port(config, name);
      assertTrue(port >= 20000 && port <= 20009, name + " got " + port);
      ports.add(port);
    }
    assertEquals(5, ports.size(), "no port is handed out twice");

    Properties remembered = remembered();
    for (String name : config.tenants().keySet()) {
      assertEquals(Integer.toString(port(config, name)), remembered.getProperty(name));
    }
  }

  @Test
  void aTenantKeepsItsPortWhenOthersAreAddedBeforeIt() throws Exception {
    Path file = write(tenants("20000-20008", "zeta"));
    int before = port(ConfigLoader.load(file), "zeta");

    // Eight newcomers in front of zeta fill all but one port of the nine: unless they keep away
    // from ports remembered for others, one of them takes zeta's.
    Files.writeString(file, HEAD + tenants("20000-20008", "a", "b", "c", "d", "e", "f", "g", "h", "zeta"));
    WakeportConfig after = ConfigLoader.load(file);
    assertEquals(before, port(after, "zeta"));
    assertEquals(9, after.tenants().values().stream().map(t -> t.instances().get(0).port()).distinct().count());
    assertEquals(Integer.toString(before), remembered().getProperty("zeta"));
  }

  @Test
  void aFixedPortIsNeverHandedToAnotherTenant() throws Exception {
    // A range of two ports, one of them fixed to acme: every other tenant must get the other one.
    String yaml = """
        defaults:
          command: [app]
          ports: 20000-20001
        tenants:
          globex:
            paths: [/globex]
          acme:
            paths: [/acme]
            port: %d
        """;
    for (int fixed : new int[] {20000, 20001}) {
      Files.deleteIfExists(dir.resolve("var/ports.properties"));
      WakeportConfig config = ConfigLoader.load(write(yaml.formatted(fixed)));
      assertEquals(fixed, port(config, "acme"));
      assertEquals(fixed == 20000 ? 20001 : 20000, port(config, "globex"));
    }
  }

  @Test
  void aRememberedPortThatIsNowFixedForAnotherTenantIsGivenUp() throws Exception {
    Path file = write(tenants("20000-20009", "globex"));
    int globexPort = port(ConfigLoader.load(file), "globex");
    Files.writeString(file, HEAD + tenants("20000-20009", "globex") + """
          acme:
            paths: [/acme]
            port: %d
        """.formatted(globexPort));
    WakeportConfig config = ConfigLoader.load(file);
    assertEquals(globexPort, port(config, "acme"));
    assertNotEquals(globexPort, port(config, "globex"));
  }

  @Test
  void checkAssignsPortsButWritesNothing() throws Exception {
    WakeportConfig config = ConfigLoader.check(write(tenants("20000-20009", "a", "b")));
    assertNotEquals(port(config, "a"), port(config, "b"));
    assertFalse(Files.exists(dir.resolve("var")), "check must not create the state dir or ports.properties");
  }

  @Test
  void aRangeTooSmallForItsTenantsIsAnError() throws Exception {
    String yaml = tenants("20000-20001", "a", "b", "c");
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("tenants.c.ports", p.key());
    assertEquals(lineOf("  c:"), p.line());
    assertTrue(p.message().contains("20000-20001"), p.message());
  }

  @Test
  void aBadPortRangeIsRejected() throws Exception {
    String yaml = """
        defaults:
          command: [app]
          ports: 20999-20000
        tenants:
          acme:
            paths: [/acme]
        """;
    ConfigProblem p = only(problems(write(yaml)));
    assertEquals("defaults.ports", p.key());
    assertEquals(lineOf("ports:"), p.line());
  }

  // ---- ports the kernel may hand to outgoing connections ----------------------------------------

  /** This machine's ephemeral range: the warnings are about it, so these tests need Linux's /proc. */
  private static KernelPorts kernel() {
    KernelPorts kernel = KernelPorts.current();
    assumeTrue(kernel != null && kernel.last() - kernel.first() > 1000 && kernel.first() > 21000,
        "needs /proc/sys/net/ipv4/ip_local_port_range with room below it");
    return kernel;
  }

  @Test
  void aRangeOverlappingTheKernelsEphemeralRangeIsAWarningAndTheConfigIsUsed() throws Exception {
    KernelPorts kernel = kernel();
    int first = kernel.first() - 50;
    String range = first + "-" + (first + 99);
    WakeportConfig config = ConfigLoader.load(write(tenants(range, "a", "b")));
    assertTrue(port(config, "a") >= first && port(config, "a") <= first + 99, "ports are still assigned from the range");
    // Both tenants inherit the range: one warning, at the default.
    ConfigProblem w = only(config.warnings());
    assertEquals(dir.resolve("wakeport.yaml"), w.file());
    assertEquals(lineOf("ports:"), w.line());
    assertEquals("defaults.ports", w.key());
    assertTrue(w.message().contains("ports " + range + " overlap the kernel's ephemeral port range " + kernel.range()),
        w.message());
    assertTrue(w.message().contains("(net.ipv4.ip_local_port_range) in " + kernel.first() + "-" + (first + 99)),
        "names the overlap: " + w.message());
    assertTrue(w.message().contains("use a range below " + kernel.first() + ", such as 20000-20099"), w.message());
  }

  @Test
  void aFixedPortInTheKernelsEphemeralRangeIsAWarning() throws Exception {
    KernelPorts kernel = kernel();
    int fixed = kernel.first() + 232;
    WakeportConfig config = ConfigLoader.check(write("""
        tenants:
          acme:
            paths: [/acme]
            command: [app]
            port: %d
          globex:
            paths: [/globex]
            command: [app]
            routes:
              one: {port: %d}
              two: {port: 20001}
        """.formatted(fixed, fixed + 1)));
    assertEquals(fixed, port(config, "acme"));
    assertEquals(2, config.warnings().size(), config.warnings().toString());
    ConfigProblem w = config.warnings().get(0);
    assertEquals("tenants.acme.port", w.key());
    assertEquals(lineOf("port: " + fixed), w.line());
    assertTrue(w.message().startsWith("port " + fixed + " lies in the kernel's ephemeral port range " + kernel.range()),
        w.message());
    assertTrue(w.message().contains("use a port below " + kernel.first()), w.message());
    assertEquals("tenants.globex.routes.one.port", config.warnings().get(1).key(), "a route's fixed port too");
  }

  @Test
  void portsBelowTheKernelsEphemeralRangeGetNoWarning() throws Exception {
    kernel();
    WakeportConfig config = ConfigLoader.check(write(tenants("20000-20999", "a") + """
          acme:
            paths: [/acme]
            port: 21000
          globex:
            paths: [/globex]
            ports: 21001-21099
        """));
    assertEquals(List.of(), config.warnings());
  }

  @Test
  void theKernelRangeIsReadWithItsReservedPortsAndIsAbsentWithoutTheFile() throws IOException {
    Path proc = Files.createDirectories(dir.resolve("proc"));
    assertNull(KernelPorts.read(proc), "no file, as off Linux: no range, so no warning");
    Files.writeString(proc.resolve("ip_local_port_range"), "32768\t60999\n");
    Files.writeString(proc.resolve("ip_local_reserved_ports"), "33000-33099,40000\n");
    KernelPorts kernel = KernelPorts.read(proc);
    assertEquals("32768-60999", kernel.range());
    assertArrayEquals(new int[] {32768, 33050}, kernel.overlap(30000, 33050));
    assertNull(kernel.overlap(20000, 32767));
    assertNull(kernel.overlap(33000, 33099), "reserved ports are never handed out");
    assertFalse(kernel.contains(40000));
    assertTrue(kernel.contains(40001));
    assertEquals("20000-20999", kernel.suggestBelow(1000));
    assertEquals("12768-32767", kernel.suggestBelow(20000));
    assertNull(kernel.suggestBelow(40000));
  }

  // ---- launch spec --------------------------------------------------------------------------

  @Test
  void theLaunchSpecSubstitutesPlaceholdersAndResolvesPathsAgainstTheConfigDirectory() throws Exception {
    Path file = write("""
        tenants:
          acme:
            paths: [/acme]
            workdir: apps/${tenant}
            command: [bin/start.sh, --name, "${tenant}", --port, "${port}", "--route=${route}"]
            env: {DATA: "/data/${tenant}-${port}", PLAIN: plain}
            port: 21234
        """);
    TenantConfig acme = ConfigLoader.check(file).tenants().get("acme");
    LaunchSpec spec = acme.launchSpec(acme.instances().get(0));

    Path workdir = dir.toAbsolutePath().normalize().resolve("apps/acme");
    assertEquals(workdir, spec.workdir());
    assertEquals(List.of(workdir.resolve("bin/start.sh").toString(), "--name", "acme", "--port", "21234", "--route="),
        spec.argv());
    assertEquals("/data/acme-21234", spec.env().get("DATA"));
    assertEquals("plain", spec.env().get("PLAIN"));
    assertEquals("21234", spec.env().get("PORT"));
    assertEquals("acme", spec.env().get("WAKEPORT_TENANT"));
    assertFalse(spec.env().containsKey("WAKEPORT_ROUTE"), "no route, no WAKEPORT_ROUTE");
  }

  @Test
  void aProgramWithoutASlashIsLeftForThePathAndAnAbsoluteOneIsKept() throws Exception {
    Path file = write("""
        tenants:
          acme:
            paths: [/acme]
            command: [java, -version]
          globex:
            paths: [/globex]
            command: [/usr/bin/env, ../x]
        """);
    WakeportConfig config = ConfigLoader.check(file);
    assertEquals(List.of("java", "-version"), spec(config, "acme").argv());
    assertEquals(List.of("/usr/bin/env", "../x"), spec(config, "globex").argv(), "only the program is resolved");
    assertEquals(dir.toAbsolutePath().normalize(), spec(config, "acme").workdir(), "the workdir defaults to the config's directory");
  }

  @Test
  void substitutedValuesAreNeverExpandedAgain() throws Exception {
    TenantConfig acme = ConfigLoader.check(write("""
        tenants:
          acme:
            paths: [/acme]
            command: [app, "${route}", "$${port}", "${tenant}${port}"]
            env: {R: "${route}"}
            port: 21000
        """)).tenants().get("acme");
    // A value that looks like a placeholder is inserted literally.
    LaunchSpec spec = acme.launchSpec(new InstanceConfig("${tenant}-${port}", 21000, 1, false, false));
    assertEquals(List.of("app", "${tenant}-${port}", "$21000", "acme21000"), spec.argv());
    assertEquals("${tenant}-${port}", spec.env().get("R"));
    assertEquals("${tenant}-${port}", spec.env().get("WAKEPORT_ROUTE"));
    assertEquals("a ${port} $1 \\ b", Placeholders.substitute("a ${tenant} b", Map.of("tenant", "${port} $1 \\")));
  }

  // ---- durations ----------------------------------------------------------------------------

  @Test
  void durationsAcceptMillisecondsSecondsMinutesHoursAndZero() {
    assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
    assertEquals(Duration.ofSeconds(60), Durations.parse("60s"));
    assertEquals(Duration.ofMinutes(15), Durations.parse("15m"));
    assertEquals(Duration.ofHours(2), Durations.parse("2h"));
    assertEquals(Duration.ZERO, Durations.parse("0"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"5", "1d", "-1s", "", "1.5s", "s", "10 s"})
  void durationsWithoutAKnownUnitAreRejected(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
    assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"512", "lots", "99999999999999999999MB", "9999999999GB"})
  void aLogSizeTooSmallOrTooLargeForALongIsAProblemNotACrash(String size) throws Exception {
    ConfigProblem p = only(problems(write(
        "tenants:\n  acme:\n    paths: [/acme]\n    command: [app]\n    log-max-size: " + size + "\n")));
    assertEquals("tenants.acme.log-max-size", p.key());
    assertEquals(7, p.line());
  }

  // ---- access log ------------------------------------------------------------------------------

  private static final String ONE_TENANT = "tenants:\n  acme:\n    paths: [/acme]\n    command: [app]\n";

  @Test
  void theAccessLogIsOffWithoutItsSection() throws Exception {
    assertEquals(AccessLogSettings.disabled(), ConfigLoader.check(write(ONE_TENANT)).accessLog());
  }

  @Test
  void theAccessLogFileIsRelativeToTheConfigFileAndDefaultsUnderTheStateDir() throws Exception {
    AccessLogSettings set = ConfigLoader.check(write("""
        access-log:
          format: json
          file: logs/requests.log
          max-size: 10MB
          keep: 3
        """ + ONE_TENANT)).accessLog();
    assertEquals(new AccessLogSettings(AccessLogSettings.Format.JSON, dir.resolve("logs/requests.log").toAbsolutePath().normalize(),
        10L * 1024 * 1024, 3), set);

    AccessLogSettings defaults = ConfigLoader.check(write("access-log:\n  format: combined\n" + ONE_TENANT)).accessLog();
    assertEquals(AccessLogSettings.Format.COMBINED, defaults.format());
    assertEquals(dir.resolve("var/access.log").toAbsolutePath().normalize(), defaults.file());
    assertEquals(100L * 1024 * 1024, defaults.maxBytes());
    assertEquals(5, defaults.keep());
  }

  @Test
  void anAccessLogWithoutFormatOrWithFormatOffLogsNothing() throws Exception {
    assertFalse(ConfigLoader.check(write("access-log:\n  keep: 2\n" + ONE_TENANT)).accessLog().enabled());
    assertFalse(ConfigLoader.check(write("access-log:\n  format: off\n" + ONE_TENANT)).accessLog().enabled(),
        "off, which YAML 1.1 would read as false, is the word off here");
  }

  @Test
  void badAccessLogValuesAreReportedWithFileLineAndKey() throws Exception {
    Files.createDirectories(dir.resolve("adir"));
    Path file = write("""
        access-log:
          format: apache
          file: adir
          max-size: 10 furlongs
          keep: -1
          rotate: daily
        """ + ONE_TENANT);
    List<ConfigProblem> problems = problems(file);
    assertEquals(5, problems.size(), problems::toString);
    assertEquals(4, find(problems, "access-log.format").line());
    assertTrue(find(problems, "access-log.format").message().contains("off, combined or json"));
    assertEquals(5, find(problems, "access-log.file").line());
    assertEquals(6, find(problems, "access-log.max-size").line());
    assertTrue(find(problems, "access-log.max-size").message().contains("10 furlongs"));
    assertEquals(7, find(problems, "access-log.keep").line());
    assertEquals(8, find(problems, "access-log.rotate").line());
    assertTrue(find(problems, "access-log.format").toString()
        .startsWith(file.toAbsolutePath().normalize() + ":4: access-log.format: "));
  }

  @ParameterizedTest
  @ValueSource(strings = {"512", "0KB", "99999999999999999999MB", "9999999999GB"})
  void anAccessLogSizeBelowOneKilobyteOrBeyondReasonIsRejected(String size) throws Exception {
    ConfigProblem p = only(problems(write("access-log:\n  format: combined\n  max-size: " + size + "\n" + ONE_TENANT)));
    assertEquals("access-log.max-size", p.key());
    assertEquals(5, p.line());
  }

  @Test
  void anAccessLogThatIsNotAMappingIsRejected() throws Exception {
    ConfigProblem p = only(problems(write("access-log: combined\n" + ONE_TENANT)));
    assertEquals("access-log", p.key());
    assertEquals(3, p.line());
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Writes {@code body} after a fixed listen/state-dir head, so line numbers in the body are offset by 2. */
  private Path write(String body) throws IOException {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, HEAD + body);
    return file;
  }

  private static String tenants(String range, String... names) {
    StringBuilder sb = new StringBuilder("defaults:\n  command: [app]\n  ports: " + range + "\ntenants:\n");
    for (String name : names) {
      sb.append("  ").append(name).append(":\n    paths: [/").append(name).append("]\n");
    }
    return sb.toString();
  }

  private static List<ConfigProblem> problems(Path file) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
  }

  private static ConfigProblem only(List<ConfigProblem> problems) {
    assertEquals(1, problems.size(), () -> "expected one problem, got:\n" + problems);
    return problems.get(0);
  }

  private static ConfigProblem find(List<ConfigProblem> problems, String key) {
    return problems.stream().filter(p -> key.equals(p.key())).findFirst()
        .orElseThrow(() -> new AssertionError("no problem with key " + key + " in:\n" + problems));
  }

  /** The 1-based line of the config file as written (HEAD included) that first contains {@code snippet}. */
  private int lineOf(String snippet) throws IOException {
    List<String> lines = Files.readAllLines(dir.resolve("wakeport.yaml"));
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(snippet)) {
        return i + 1;
      }
    }
    throw new AssertionError("'" + snippet + "' is not in the file");
  }

  private Properties remembered() throws IOException {
    Properties props = new Properties();
    try (var reader = Files.newBufferedReader(dir.resolve("var/ports.properties"))) {
      props.load(reader);
    }
    return props;
  }

  private static int port(WakeportConfig config, String tenant) {
    List<InstanceConfig> instances = config.tenants().get(tenant).instances();
    assertEquals(1, instances.size());
    return instances.get(0).port();
  }

  private static LaunchSpec spec(WakeportConfig config, String tenant) {
    TenantConfig t = config.tenants().get(tenant);
    return t.launchSpec(t.instances().get(0));
  }
}
