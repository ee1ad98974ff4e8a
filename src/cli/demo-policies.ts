import { actorOf, type Actor } from '../auth/actor';
import type { Services } from '../container';
import { contextForActor } from '../graphql/context';
import type { Gender, Relationship } from '../domain/enums';
import { makeResidentId } from '../domain/resident-id';
import { OrganizationEntity } from '../modules/organization/organization.entity';
import { PrincipalEntity } from '../modules/principal/principal.entity';
import type { SalesRecordData } from '../modules/sales/sales.validation';

/** How many demo policies each channel sells to DEMO_LIFE. */
export const DEMO_POLICY_COUNTS = { DEMO_BANK: 180, DEMO_BROKER: 120 } as const;
/** The bank's registered sales person whose own phone some demo policyholders carry (PHONE_IS_SALES_PERSON). */
export const DEMO_SELLER = { code: 'B-007', name: '测试销售员', phone: '13900000007' } as const;
/** The phone shared by several demo policyholders (PHONE_SHARED). */
export const DEMO_SHARED_PHONE = '13900000099';

const REGIONS = ['110105', '310115', '440305', '330106', '510107', '420106'];
const CITIES = ['北京市朝阳区', '上海市浦东新区', '深圳市福田区', '杭州市西湖区', '成都市武侯区', '武汉市江岸区'];
const PRODUCTS: Array<{ code: string; termMonths: number }> = [
  { code: 'DEMO-LIFE-20Y', termMonths: 240 },
  { code: 'DEMO-ANNUITY-10Y', termMonths: 120 },
  { code: 'DEMO-CI-WHOLE', termMonths: 1200 },
];

/** What a demo record is made to show (a realistic share of them has a gap or fails a check). */
type Flaw =
  | 'NONE'
  | 'NO_PHONE'
  | 'NO_ADDRESS'
  | 'NO_RELATIONSHIP'
  | 'BAD_CHECK_DIGIT'
  | 'GENDER_MISMATCH'
  | 'PLACEHOLDER_ADDRESS'
  | 'SHARED_PHONE'
  | 'SELLER_PHONE'
  | 'CHILD_INSURED';

/** One flaw per 30 records in each slot listed; the other 21 of 30 are complete (or a complete family policy). */
const FLAWS: Record<number, Flaw> = {
  2: 'NO_PHONE',
  5: 'NO_ADDRESS',
  8: 'BAD_CHECK_DIGIT',
  11: 'CHILD_INSURED',
  13: 'GENDER_MISMATCH',
  17: 'PLACEHOLDER_ADDRESS',
  19: 'SHARED_PHONE',
  22: 'NO_RELATIONSHIP',
  25: 'SELLER_PHONE',
  28: 'CHILD_INSURED',
};

interface DemoPerson {
  name: string;
  gender: Gender;
  birthDate: string;
  idType: 'RESIDENT_ID';
  idNumber: string;
  phone: string | null;
  address: string | null;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A made-up person, a function of `n` alone (测试 + number, valid check character). */
function demoPerson(n: number, birthYear: number): DemoPerson {
  const gender: Gender = n % 2 === 0 ? 'FEMALE' : 'MALE';
  const birthDate = `${birthYear}-${pad(1 + (n % 12), 2)}-${pad(1 + (n % 28), 2)}`;
  const sequence = ((n * 2) % 996) + (gender === 'MALE' ? 1 : 2);
  const region = REGIONS[n % REGIONS.length]!;
  return {
    name: `测试${n}`,
    gender,
    birthDate,
    idType: 'RESIDENT_ID',
    idNumber: makeResidentId({ region, birthDate, sequence, gender }),
    phone: `139${pad(10_000_000 + ((n * 7_919) % 90_000_000), 8)}`,
    address: `${CITIES[n % CITIES.length]}测试路${1 + (n % 300)}号${1 + (n % 20)}栋${100 + (n % 30)}室`,
  };
}

/**
 * The demo book of one channel: `count` records, deterministic (the same
 * every time), with the flaws of {@link FLAWS}. Policy numbers
 * `DL-<channel>-000001`…; application dates in 2024–2025.
 */
export function demoRecords(channel: 'BANK' | 'BROKER', count: number, offset: number): SalesRecordData[] {
  const records: SalesRecordData[] = [];
  for (let i = 0; i < count; i += 1) {
    const n = offset + i + 1;
    const flaw = FLAWS[n % 30] ?? 'NONE';
    const product = PRODUCTS[n % PRODUCTS.length]!;
    const holder = demoPerson(n * 3, 1960 + (n % 30));
    let insured: DemoPerson = holder;
    let relationship: Relationship | null = 'SELF';
    let salesPersonCode = channel === 'BANK' ? `B-${pad(1 + (n % 12), 3)}` : `K-${pad(1 + (n % 8), 3)}`;
    switch (flaw) {
      case 'NO_PHONE':
        holder.phone = null;
        break;
      case 'NO_ADDRESS':
        holder.address = null;
        break;
      case 'NO_RELATIONSHIP':
        insured = demoPerson(n * 3 + 1, 1990 + (n % 10));
        relationship = null;
        break;
      case 'BAD_CHECK_DIGIT': {
        const id = holder.idNumber;
        holder.idNumber = id.slice(0, 17) + (id[17] === '1' ? '2' : '1');
        break;
      }
      case 'GENDER_MISMATCH':
        holder.gender = holder.gender === 'MALE' ? 'FEMALE' : 'MALE';
        break;
      case 'PLACEHOLDER_ADDRESS':
        holder.address = n % 2 ? '不详' : '无';
        break;
      case 'SHARED_PHONE':
        holder.phone = DEMO_SHARED_PHONE;
        break;
      case 'SELLER_PHONE':
        if (channel === 'BANK') {
          holder.phone = DEMO_SELLER.phone;
          salesPersonCode = DEMO_SELLER.code;
        }
        break;
      case 'CHILD_INSURED':
        insured = { ...demoPerson(n * 3 + 2, 2005 + (n % 10)), phone: null, address: null };
        relationship = 'CHILD';
        break;
      default:
        break;
    }
    const beneficiaries =
      relationship === 'CHILD' || n % 7 === 0
        ? [{ person: stripContact(demoPerson(n * 3 + 1, 1962 + (n % 25))), relationshipToInsured: relationship === 'CHILD' ? ('PARENT' as const) : ('SPOUSE' as const), sharePercent: 100, order: 1 }]
        : [];
    records.push({
      policyNo: `DL-${channel}-${pad(n, 6)}`,
      productCode: product.code,
      termMonths: product.termMonths,
      applicationDate: `${2024 + (n % 2)}-${pad(1 + (n % 12), 2)}-${pad(1 + (n % 28), 2)}`,
      salesPersonCode,
      policyholder: holder,
      insured,
      insuredRelationship: relationship,
      beneficiaries,
    });
  }
  return records;
}

function stripContact(p: DemoPerson): DemoPerson {
  return { ...p, phone: null, address: null };
}

async function demoActor(services: Services, orgCode: string, principalName: string): Promise<Actor> {
  const org = await services.db.getRepository(OrganizationEntity).findOneByOrFail({ code: orgCode });
  const principal = await services.db.getRepository(PrincipalEntity).findOneByOrFail({ organizationId: org.id, name: principalName });
  return actorOf(org, principal);
}

/**
 * The demo book of DEMO_LIFE ({@link DEMO_POLICY_COUNTS}: a few hundred
 * policies sold by DEMO_BANK and DEMO_BROKER), pushed through the same
 * service path as `submitSales` (agreement and attestation checked, one
 * transfer-log entry per batch): mostly complete, some incomplete (no phone,
 * no address, no relationship) and some suspect (a bad check character, an
 * ID/gender mismatch, a placeholder address, a shared phone, the seller's own
 * phone). The bank first registers sales person {@link DEMO_SELLER}. Made-up
 * people only. Idempotent: a second run replays the stored batches.
 */
export async function seedDemoPolicies(services: Services): Promise<{ accepted: number; rejected: number }> {
  const now = new Date();
  const bankAdmin = await demoActor(services, 'DEMO_BANK', 'demo-bank-admin');
  await services.salesPeople.registerSalesPerson(contextForActor(bankAdmin, now, services), { code: DEMO_SELLER.code, name: DEMO_SELLER.name, phone: DEMO_SELLER.phone });
  let accepted = 0;
  let rejected = 0;
  for (const [orgCode, principal, channel, count, offset] of [
    ['DEMO_BANK', 'demo-bank-sales', 'BANK', DEMO_POLICY_COUNTS.DEMO_BANK, 0],
    ['DEMO_BROKER', 'demo-broker-sales', 'BROKER', DEMO_POLICY_COUNTS.DEMO_BROKER, 1000],
  ] as const) {
    const actor = await demoActor(services, orgCode, principal);
    const result = await services.sales.submit(contextForActor(actor, now, services), 'DEMO_LIFE', `demo-seed-${channel.toLowerCase()}-1`, demoRecords(channel, count, offset));
    accepted += result.accepted;
    rejected += result.rejected;
  }
  return { accepted, rejected };
}
