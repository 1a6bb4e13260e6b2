package io.wakeport.registration;

/** A registration, report or removal refused, with the status and code the admin API answers. */
public final class RegistrationRefused extends RuntimeException {

  public final int status;
  public final String code;

  public RegistrationRefused(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }
}
