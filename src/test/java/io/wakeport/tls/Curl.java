package io.wakeport.tls;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The curl command line as a TLS and HTTP/2 client: names resolved to 127.0.0.1, the test CA trusted. */
final class Curl {

  record Result(int exit, String out) {}

  private Curl() {}

  /** {@code curl -sS --cacert CA --resolve host:port:127.0.0.1 ARGS}, its stdout and stderr together. */
  static Result run(Path ca, String host, int port, Path stdin, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--cacert", ca.toString(),
        "--resolve", host + ":" + port + ":127.0.0.1"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    if (stdin != null) {
      builder.redirectInput(stdin.toFile());
    }
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("curl did not finish: " + out);
    }
    return new Result(process.exitValue(), out);
  }
}
