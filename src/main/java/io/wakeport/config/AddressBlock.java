package io.wakeport.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A block of addresses in CIDR notation ({@code 10.0.0.0/8}, {@code fd00::/8}; a lone address is
 * its own block): where a backend registering itself may say it listens.
 *
 * @param network the block's first address, its host bits cleared
 * @param bits    how many leading bits an address must share with it
 */
public record AddressBlock(byte[] network, int bits) {

  /** The block {@code text} names, or null when it is not one. */
  public static AddressBlock parse(String text) {
    String t = text.trim();
    int slash = t.indexOf('/');
    String address = slash < 0 ? t : t.substring(0, slash);
    byte[] bytes = literal(address);
    if (bytes == null) {
      return null;
    }
    int bits;
    try {
      bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(t.substring(slash + 1));
    } catch (NumberFormatException e) {
      return null;
    }
    if (bits < 0 || bits > bytes.length * 8) {
      return null;
    }
    for (int i = 0; i < bytes.length; i++) {
      int keep = Math.max(0, Math.min(8, bits - i * 8));
      bytes[i] &= (byte) (0xff << (8 - keep));
    }
    return new AddressBlock(bytes, bits);
  }

  /**
   * The bytes of an IP address literal (IPv4 dotted, or IPv6 with a colon), never a name: no
   * lookup is ever made, so what is checked is what was written. Null for anything else.
   */
  public static byte[] literal(String text) {
    boolean v4 = text.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    boolean v6 = text.indexOf(':') >= 0 && text.matches("[0-9A-Fa-f:.]+");
    if (!v4 && !v6) {
      return null;
    }
    try {
      return InetAddress.getByName(text).getAddress(); // a literal: parsed, not looked up
    } catch (UnknownHostException e) {
      return null;
    }
  }

  public boolean contains(byte[] address) {
    if (address.length != network.length) {
      return false;
    }
    for (int i = 0; i < network.length; i++) {
      int keep = Math.max(0, Math.min(8, bits - i * 8));
      int mask = (0xff << (8 - keep)) & 0xff;
      if ((address[i] & mask) != (network[i] & 0xff)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AddressBlock b && bits == b.bits && java.util.Arrays.equals(network, b.network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + bits;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + bits;
    } catch (UnknownHostException e) {
      return "?/" + bits;
    }
  }
}
