import type { DataSource } from 'typeorm';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Secrets } from './db/secrets';
import { OrganizationService } from './modules/organization/organization.service';
import { PrincipalService } from './modules/principal/principal.service';

/** Composition root: every service, built once per server from the database and the config. */
export function createServices(db: DataSource, config: Config, log: Logger, secrets: Secrets) {
  const organizations = new OrganizationService(db);
  const principals = new PrincipalService(db, organizations);
  return { db, config, log, secrets, organizations, principals };
}

export type Services = ReturnType<typeof createServices>;
