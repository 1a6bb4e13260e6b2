package io.wakeport.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/**
 * A hand-made ClientHello of an old TLS version, as an old or hostile client sends it: the JDK's own
 * client will not even offer TLS 1.0 or 1.1 any more, so this is the way to see what the server does.
 */
final class TlsHello {

  private TlsHello() {}

  /**
   * Sends a ClientHello for TLS 1.{@code minor - 1} offering ECDHE and RSA suites with AES-CBC, and
   * returns the first byte of the server's reply: 0x16 a handshake (ServerHello), 0x15 an alert,
   * -1 a close.
   */
  static int firstReplyByte(int port, int minor, String serverName) throws IOException {
    return firstReplyByte(port, minor, serverName, OLD_SUITES);
  }

  /** ECDHE and RSA key exchange with AES-CBC: what TLS 1.0 and 1.1 clients offer. */
  static final int[] OLD_SUITES = {0xC013, 0xC009, 0x002F, 0x0035, 0x00FF};

  /** As {@link #firstReplyByte(int, int, String)}, offering {@code suites}. */
  static int firstReplyByte(int port, int minor, String serverName, int[] suites) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(clientHello(minor, serverName, suites));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      try {
        return in.read();
      } catch (java.net.SocketException e) {
        return -1; // reset: refused all the same
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no reply to a TLS 1." + (minor - 1) + " ClientHello in 10 s");
      }
    }
  }

  static byte[] clientHello(int minor, String serverName, int[] suites) {
    ByteArrayOutputStream hello = new ByteArrayOutputStream();
    hello.write(3);
    hello.write(minor);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    hello.writeBytes(random);
    hello.write(0); // no session id
    u16(hello, suites.length * 2);
    for (int suite : suites) {
      u16(hello, suite);
    }
    hello.write(1);
    hello.write(0); // null compression
    ByteArrayOutputStream extensions = new ByteArrayOutputStream();
    byte[] name = serverName.getBytes(StandardCharsets.US_ASCII);
    u16(extensions, 0x0000); // server_name
    u16(extensions, name.length + 5);
    u16(extensions, name.length + 3);
    extensions.write(0);
    u16(extensions, name.length);
    extensions.writeBytes(name);
    u16(extensions, 0x000a); // supported_groups: secp256r1
    u16(extensions, 4);
    u16(extensions, 2);
    u16(extensions, 0x0017);
    u16(extensions, 0x000b); // ec_point_formats: uncompressed
    u16(extensions, 2);
    extensions.write(1);
    extensions.write(0);
    u16(extensions, 0x000d); // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    u16(extensions, 8);
    u16(extensions, 6);
    u16(extensions, 0x0403);
    u16(extensions, 0x0804);
    u16(extensions, 0x0401);
    u16(hello, extensions.size());
    hello.writeBytes(extensions.toByteArray());

    ByteArrayOutputStream record = new ByteArrayOutputStream();
    record.write(0x16);
    record.write(3);
    record.write(1);
    u16(record, hello.size() + 4);
    record.write(1); // client_hello
    record.write(0);
    u16(record, hello.size());
    record.writeBytes(hello.toByteArray());
    return record.toByteArray();
  }

  private static void u16(ByteArrayOutputStream out, int value) {
    out.write(value >> 8 & 0xff);
    out.write(value & 0xff);
  }
}
