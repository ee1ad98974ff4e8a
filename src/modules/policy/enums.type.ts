import { registerEnumType } from 'type-graphql';
import { COMPLETENESS_STATUSES, GENDERS, ID_TYPES, RELATIONSHIPS, type CompletenessStatus, type Gender, type IdType, type Relationship } from '../../domain/enums';

function enumObject<T extends string>(values: readonly T[]): { [K in T]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
}

/** Contract enum `Gender`. */
export const GenderEnum = enumObject<Gender>(GENDERS);
registerEnumType(GenderEnum, { name: 'Gender' });

/** Contract enum `IdType`. */
export const IdTypeEnum = enumObject<IdType>(ID_TYPES);
registerEnumType(IdTypeEnum, { name: 'IdType' });

/** Contract enum `Relationship`. */
export const RelationshipEnum = enumObject<Relationship>(RELATIONSHIPS);
registerEnumType(RelationshipEnum, { name: 'Relationship' });

/** Contract enum `CompletenessStatus`. */
export const CompletenessStatusEnum = enumObject<CompletenessStatus>(COMPLETENESS_STATUSES);
registerEnumType(CompletenessStatusEnum, { name: 'CompletenessStatus' });
