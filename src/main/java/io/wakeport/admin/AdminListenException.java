package io.wakeport.admin;

import io.wakeport.config.AdminSettings;

/** The admin listener cannot listen where {@code admin.listen} says: one line for the operator. */
public final class AdminListenException extends Exception {

  AdminListenException(AdminSettings settings, String reason) {
    super("cannot listen on " + settings.address() + " (admin.listen; `admin: off` turns the admin listener off): "
        + reason, null, false, false);
  }
}
