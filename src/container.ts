import type { DataSource } from 'typeorm';
import type { ContainerType } from 'type-graphql';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Secrets } from './db/secrets';
import { observeRetries } from './db/transaction';
import { Metrics } from './metrics';
import { AgreementResolver } from './modules/agreement/agreement.resolver';
import { AgreementService } from './modules/agreement/agreement.service';
import { GrantService } from './modules/agreement/grant.service';
import { OrganizationResolver } from './modules/organization/organization.resolver';
import { OrganizationService } from './modules/organization/organization.service';
import { OrganizationRegistry } from './modules/organization/organization-registry';
import { PrincipalResolver } from './modules/principal/principal.resolver';
import { PrincipalService } from './modules/principal/principal.service';
import { RemediationProgressResolver, RemediationResolver } from './modules/remediation/remediation.resolver';
import { RemediationService } from './modules/remediation/remediation.service';
import { CorrectionResolver } from './modules/correction/correction.resolver';
import { CorrectionService } from './modules/correction/correction.service';
import { CorrectionHistoryService } from './modules/correction/correction-history.service';
import { SummaryResolver } from './modules/summary/summary.resolver';
import { SummaryService } from './modules/summary/summary.service';
import { PiiCipher } from './modules/person/pii';
import { PersonResolver, PolicyResolver } from './modules/policy/policy.resolver';
import { PolicyService } from './modules/policy/policy.service';
import { SalesResolver } from './modules/sales/sales.resolver';
import { SalesPeopleService } from './modules/sales/sales-people.service';
import { SalesService } from './modules/sales/sales.service';
import { TransferLogResolver } from './modules/transfer-log/transfer-log.resolver';
import { TransferLogCheckpoints } from './modules/transfer-log/transfer-log.checkpoints';
import { TransferLogReader } from './modules/transfer-log/transfer-log.reader';
import { TransferLogVerifier } from './modules/transfer-log/transfer-log.verifier';
import { TransferLogWriter } from './modules/transfer-log/transfer-log.writer';

/**
 * Composition root: every service, built once per server from the database
 * and the config. `transferLog` is the log's writer, the one every write path
 * gets; its reader, verifier and checkpoints serve the transfer-log queries
 * and the command line. `metrics` (its own registry per server) is what the
 * writer, the verifier, submitSales and inTransaction's retries count into.
 */
export function createServices(db: DataSource, config: Config, log: Logger, secrets: Secrets, metrics: Metrics = new Metrics()) {
  observeRetries(db, (errno) => metrics.transactionRetried(errno));
  metrics.watchPool(db);
  const organizations = new OrganizationService(db);
  const transferLog = new TransferLogWriter(db, organizations, log, metrics);
  const transferLogReader = new TransferLogReader(db, organizations);
  const transferLogCheckpoints = new TransferLogCheckpoints(db, transferLogReader, secrets, log);
  const transferLogVerifier = new TransferLogVerifier(db, transferLogReader, transferLogCheckpoints, metrics);
  const organizationRegistry = new OrganizationRegistry(organizations, transferLog);
  const principals = new PrincipalService(db, organizations, transferLog);
  const agreements = new AgreementService(db, organizations, transferLog);
  const grants = new GrantService(db);
  const pii = new PiiCipher(secrets.dataKey, config.previousDataKeys);
  const policies = new PolicyService(db, organizations, grants, transferLog);
  const sales = new SalesService(db, grants, transferLog, pii, metrics);
  const salesPeople = new SalesPeopleService(organizations, transferLog, pii);
  const summary = new SummaryService(db, organizations, grants, policies);
  const remediation = new RemediationService(db, organizations, grants, transferLog);
  const corrections = new CorrectionService(db, grants, transferLog, pii, policies);
  const correctionHistory = new CorrectionHistoryService(db, policies);
  return { db, config, log, secrets, metrics, organizations, organizationRegistry, principals, transferLog, transferLogReader, transferLogVerifier, transferLogCheckpoints, agreements, grants, policies, pii, sales, salesPeople, summary, remediation, corrections, correctionHistory };
}

export type Services = ReturnType<typeof createServices>;

/**
 * type-graphql's container: every resolver built once, here, with the
 * services it calls and nothing else (no database, no keys, no context
 * lookup). Built explicitly rather than by reflecting constructor types, so
 * what each resolver can reach is read in one place.
 */
export function createResolverContainer(services: Services): ContainerType {
  const instances: object[] = [
    new OrganizationResolver(services.organizations, services.organizationRegistry),
    new PrincipalResolver(services.principals),
    new AgreementResolver(services.agreements),
    new TransferLogResolver(services.transferLogReader, services.transferLogVerifier, services.transferLogCheckpoints),
    new PolicyResolver(services.policies),
    new PersonResolver(services.pii),
    new SalesResolver(services.sales, services.salesPeople, services.pii),
    new SummaryResolver(services.summary),
    new RemediationResolver(services.remediation),
    new RemediationProgressResolver(),
    new CorrectionResolver(services.corrections, services.correctionHistory, services.pii),
  ];
  return resolverContainer(instances);
}

/** For a schema built only to be printed or inspected (emit-schema, the schema tests): no resolver runs, so none is built. */
export const NO_RESOLVERS: ContainerType = resolverContainer([]);

/** A container answering each resolver class with its one instance, and failing loudly on a class it was not given. */
function resolverContainer(instances: readonly object[]): ContainerType {
  const byClass = new Map<unknown, object>(instances.map((instance) => [instance.constructor, instance]));
  return {
    get(someClass: unknown) {
      const instance = byClass.get(someClass);
      if (!instance) throw new Error(`no resolver instance for ${(someClass as { name?: string }).name ?? String(someClass)}`);
      return instance;
    },
  };
}
