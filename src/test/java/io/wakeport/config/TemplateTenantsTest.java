package io.wakeport.config;

import static io.wakeport.testing.TestBed.demoCommand;
import static io.wakeport.testing.TestBed.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.wakeport.testing.TestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
}
