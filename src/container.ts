import type { DataSource } from 'typeorm';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Secrets } from './db/secrets';
import { AgreementService } from './modules/agreement/agreement.service';
import { GrantService } from './modules/agreement/grant.service';
import { OrganizationService } from './modules/organization/organization.service';
import { PrincipalService } from './modules/principal/principal.service';
import { RemediationService } from './modules/remediation/remediation.service';
import { CorrectionService } from './modules/correction/correction.service';
import { SummaryService } from './modules/summary/summary.service';
import { PiiCipher } from './modules/person/pii';
import { PolicyService } from './modules/policy/policy.service';
import { SalesPeopleService } from './modules/sales/sales-people.service';
import { SalesService } from './modules/sales/sales.service';
import { TransferLogService } from './modules/transfer-log/transfer-log.service';

/** Composition root: every service, built once per server from the database and the config. */
export function createServices(db: DataSource, config: Config, log: Logger, secrets: Secrets) {
  const organizations = new OrganizationService(db);
  const transferLog = new TransferLogService(db, organizations, secrets, log);
  const principals = new PrincipalService(db, organizations, transferLog);
  const agreements = new AgreementService(db, organizations, transferLog);
  const grants = new GrantService(db);
  const pii = new PiiCipher(secrets.dataKey);
  const policies = new PolicyService(db, organizations, grants, transferLog);
  const sales = new SalesService(db, grants, transferLog, pii);
  const salesPeople = new SalesPeopleService(organizations, transferLog, pii);
  const summary = new SummaryService(db, organizations, grants, policies);
  const remediation = new RemediationService(db, organizations, grants, transferLog);
  const corrections = new CorrectionService(db, grants, transferLog, pii, policies);
  return { db, config, log, secrets, organizations, principals, transferLog, agreements, grants, policies, pii, sales, salesPeople, summary, remediation, corrections };
}

export type Services = ReturnType<typeof createServices>;
