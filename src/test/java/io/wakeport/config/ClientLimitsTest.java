package io.wakeport.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The connection caps derived from the fd limit when the config names none. */
class ClientLimitsTest {

  @Test
  void theTotalCapLeavesAReserveAndHalvesTheRestForBackendConnections() {
    ClientLimits d = ClientLimits.defaults();
    assertEquals(96, d.effectiveMaxConnections(256));
    assertEquals(448, d.effectiveMaxConnections(1024));
    assertEquals(458_752, d.effectiveMaxConnections(1 << 20));
  }

  @Test
  void oneAddressGetsAtMostAQuarterOfTheSlotsByDefault() {
    ClientLimits d = ClientLimits.defaults();
    assertEquals(24, d.effectiveMaxConnectionsPerClient(96));
    assertEquals(256, d.effectiveMaxConnectionsPerClient(448_000));
    ClientLimits configured = new ClientLimits(d.headerTimeout(), d.keepAliveTimeout(), d.bodyTimeout(),
        d.sendTimeout(), 0, 500,
        d.maxRequestLine(), d.maxHeaderLine(), d.maxRequestHeaders(), d.maxResponseHeaders(), 0);
    assertEquals(500, configured.effectiveMaxConnectionsPerClient(96), "a configured value is taken as it is");
  }
}
