package io.wakeport.config;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many customers from one template: *.apps.test, a directory per customer deciding who exists. */
class TemplateTenantsTest {

  @TempDir Path dir;

  private String config() {
    return """
        tenants:
          shop:
            hosts: [shop.test]
            command: %s
          apps:
            hosts: ["*.apps.test"]
            exists: customers/${tenant}
            command: %s
        """.formatted(demoCommand(), demoCommand());
  }

  private static int status(TestBed bed, String host) {
    try {
      return bed.request(HttpMethod.GET, null, "/").putHeader("Host", host).send().await().statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  @Test
  void aCustomerWithADirectoryIsATenantNamedAfterItsLabelWithARememberedPort() throws Exception {
    Files.createDirectories(dir.resolve("customers/acme"));
    try (TestBed bed = TestBed.start(dir, config())) {
      HttpResponse<Buffer> r = bed.request(HttpMethod.GET, null, "/").putHeader("Host", "ACME.apps.test").send().await();
      assertEquals(200, r.statusCode());
      assertEquals("acme", field(r.bodyAsString(), "tenant"));
      String port = field(r.bodyAsString(), "port");
      assertTrue(Files.readString(dir.resolve("var/ports.properties")).contains("apps+acme=" + port));
      assertTrue(Files.exists(bed.logFile("apps+acme")));
    }
  }

  @Test
  void anUnknownCustomerGets404WithoutASpawnUntilItsDirectoryAppears() throws Exception {
    try (TestBed bed = TestBed.start(dir, config())) {
      assertEquals(404, status(bed, "newco.apps.test"));
      assertFalse(Files.exists(bed.logFile("apps+newco")), "nothing was started");
      Files.createDirectories(dir.resolve("customers/newco"));
      TestBed.await("newco served once its directory exists", Duration.ofSeconds(15),
          () -> status(bed, "newco.apps.test") == 200);
    }
  }

  @Test
  void labelsThatAreNotTenantNamesAreNeverSubstitutedAnywhere() throws Exception {
    Files.createDirectories(dir.resolve("customers"));
    try (TestBed bed = TestBed.start(dir, config())) {
      for (String host : new String[] {"x_y.apps.test", "-x.apps.test", "a..apps.test", "%2e%2e.apps.test",
          "a$b.apps.test", "toolongtoolongtoolongtoolongtoolongtoolongtoolongtoolongtoolong1.apps.test"}) {
        assertEquals(404, status(bed, host), host);
      }
      assertFalse(Files.exists(dir.resolve("var/logs")) && Files.list(dir.resolve("var/logs")).findAny().isPresent(),
          "nothing was started");
      assertEquals(0, bed.wakeport.supervisor().instances().size());
    }
  }

  @Test
  void aLabelNamingAConfiguredTenantIsNotMadeFromTheTemplate() throws Exception {
    Files.createDirectories(dir.resolve("customers/shop"));
    try (TestBed bed = TestBed.start(dir, config())) {
      assertEquals(404, status(bed, "shop.apps.test"));
      assertEquals(200, status(bed, "shop.test"));
    }
  }

  @Test
  void aTemplateWithNeitherExistsNorMaxTenantsIsAProblemSayingWhatToAdd() throws Exception {
    Path file = dir.resolve("wakeport.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:0
        state-dir: var
        tenants:
          apps:
            hosts: ["*.apps.test"]
            command: [app]
        """);
    List<ConfigProblem> problems = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
    assertEquals(1, problems.size(), problems::toString);
    ConfigProblem p = problems.get(0);
    assertEquals(file, p.file());
    assertEquals(4, p.line());
    assertEquals("tenants.apps.max-tenants", p.key());
    assertTrue(p.message().contains("max-tenants: N") && p.message().contains("exists:"), p.message());

    Files.writeString(file, """
        listen: 127.0.0.1:0
        state-dir: var
        tenants:
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 0
            command: [app]
          shop:
            hosts: [shop.test]
            max-tenants: 3
            command: [app]
        """);
    problems = assertThrows(ConfigException.class, () -> ConfigLoader.check(file)).problems();
    assertEquals(2, problems.size(), problems::toString);
    assertEquals("tenants.apps.max-tenants", problems.get(0).key());
    assertEquals(6, problems.get(0).line());
    assertEquals("tenants.shop.max-tenants", problems.get(1).key());
    assertTrue(problems.get(1).message().contains("only applies to a template"), problems.get(1).message());

    Files.writeString(file, """
        listen: 127.0.0.1:0
        state-dir: var
        tenants:
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 3
            command: [app]
          more:
            hosts: ["*.more.test"]
            exists: customers/${tenant}
            command: [app]
        """);
    ConfigLoader.check(file);
  }

  @Test
  void aFloodOfLabelsAgainstMaxTenantsSpawnsOnlyTheBoundAndTheRestGet503() throws Exception {
    String config = """
        tenants:
          apps:
            hosts: ["*.apps.test"]
            max-tenants: 3
            command: %s
        """.formatted(demoCommand());
    try (TestBed bed = TestBed.start(dir, config)) {
      Random random = new Random(11);
      List<String> labels = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        labels.add("c" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
      }
      List<String> served = new ArrayList<>();
      for (String label : labels) {
        HttpResponse<Buffer> r = bed.request(HttpMethod.GET, null, "/").putHeader("Host", label + ".apps.test")
            .send().await();
        if (r.statusCode() == 200) {
          served.add(label);
          assertEquals(label, field(r.bodyAsString(), "tenant"));
        } else {
          assertEquals(503, r.statusCode(), label);
          assertTrue(Integer.parseInt(r.getHeader("Retry-After")) > 0, label);
          assertFalse(Files.exists(bed.logFile("apps+" + label)), "nothing was started for " + label);
        }
      }
      assertEquals(labels.subList(0, 3), served, "the first three labels are the template's tenants");
      assertEquals(3, bed.wakeport.supervisor().instances().size(), "exactly three spawns");
      for (String label : served) {
        assertEquals(200, status(bed, label + ".apps.test"), label + " keeps serving");
      }
      assertEquals(503, status(bed, labels.get(49) + ".apps.test"));
      assertEquals(3, bed.wakeport.supervisor().instances().size());
    }
  }
}
