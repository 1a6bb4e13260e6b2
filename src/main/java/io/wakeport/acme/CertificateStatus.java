package io.wakeport.acme;

import java.time.Instant;

/**
 * What the admin API and console show of one name's certificate.
 *
 * @param name        the host name
 * @param notAfter    when the certificate being served ends; null: none yet
 * @param lastRenewal when the last certificate was issued by this process; null: none yet (or read from disk)
 * @param lastError   why the last attempt failed; null after a success
 * @param nextAttempt when the next order is planned (renewal or retry); null: none planned
 * @param failures    failed attempts in a row
 * @param onDemand    whether the name came from a handshake rather than the config
 */
public record CertificateStatus(String name, Instant notAfter, Instant lastRenewal, String lastError,
    Instant nextAttempt, int failures, boolean onDemand) {}
