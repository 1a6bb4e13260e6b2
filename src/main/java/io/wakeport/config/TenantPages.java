package io.wakeport.config;

/**
 * A tenant's pages: its waiting page setting ({@code waiting-page}, inherited through
 * {@code defaults:}) and its own {@code pages:} (each used over the root's page for that key).
 */
public record TenantPages(WaitingPage waiting, PageTemplates own) {

  public static final TenantPages DEFAULT = new TenantPages(WaitingPage.DEFAULT, PageTemplates.NONE);
}
