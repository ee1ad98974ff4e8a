import { AppError } from '../../graphql/errors';

/** Art. 6(3): underwriting may not pass while required customer information is missing. */
export class IncompleteCustomerInfoError extends AppError {
  constructor(missing: string[]) {
    super('INCOMPLETE_CUSTOMER_INFO', 'Required customer information is missing (Art. 6(3) of the measures): see extensions.missing', { missing });
  }
}

/** A record that fails an authenticity check is underwritten only with an override reason. */
export class SuspectCustomerInfoError extends AppError {
  constructor(issues: string[]) {
    super('SUSPECT_CUSTOMER_INFO', 'The customer information fails authenticity checks (see extensions.issues): correct it, or give overrideReason', { issues });
  }
}
