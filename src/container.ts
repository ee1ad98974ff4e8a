import type { DataSource } from 'typeorm';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Secrets } from './db/secrets';
import { AgreementService } from './modules/agreement/agreement.service';
import { GrantService } from './modules/agreement/grant.service';
import { OrganizationService } from './modules/organization/organization.service';
import { PrincipalService } from './modules/principal/principal.service';
import { TransferLogService } from './modules/transfer-log/transfer-log.service';

/** Composition root: every service, built once per server from the database and the config. */
export function createServices(db: DataSource, config: Config, log: Logger, secrets: Secrets) {
  const organizations = new OrganizationService(db);
  const transferLog = new TransferLogService(db, organizations, secrets, log);
  const principals = new PrincipalService(db, organizations, transferLog);
  const agreements = new AgreementService(db, organizations, transferLog);
  const grants = new GrantService(db);
  return { db, config, log, secrets, organizations, principals, transferLog, agreements, grants };
}

export type Services = ReturnType<typeof createServices>;
