package io.wakeport.metrics;

/**
 * Where the answers of one tenant (or of none) are counted: fetched once per request from
 * {@link Metrics#tenant}, recorded once when the exchange ends.
 */
public interface RequestMeters {

  /** Counts nothing: metrics are off. */
  RequestMeters NONE = (status, nanos) -> { };

  /** One answer with {@code status} (499: the client left first), {@code nanos} from its head to its end. */
  void record(int status, long nanos);
}
