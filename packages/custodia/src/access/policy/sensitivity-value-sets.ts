/**
 * The value sets that label a resource as sensitive automatically: coded data found anywhere
 * in the resource → sensitivity categories ({@link SensitivityCategory}). Kept as data here,
 * with the source of every entry; `docs/sensitive-data.md` is the privacy officer's version
 * (what triggers each label, known gaps, how to label by hand).
 *
 * Matching is exact on (system, code), except ICD-10 (code prefixes, dots ignored) and CIEL
 * (see {@link CIEL_CONCEPTS}). Descendants in the SNOMED CT or LOINC hierarchies are NOT
 * expanded: a code that is not listed does not trigger a label. That is the main known gap;
 * extend the lists (or label by hand, `meta.security`) where local data uses other codes.
 */
import type { SensitivityCategory } from './security-labels.js';

/** One coded concept that triggers categories. `display` documents the entry; it is never matched. */
export interface SensitiveConcept {
  readonly code: string;
  readonly display: string;
  readonly categories: readonly SensitivityCategory[];
}

/**
 * ICD-10 / ICD-10-CM rules. `from`/`to` are code prefixes without the dot (a range runs over
 * three-character categories with the same letter, both ends included); `except` removes
 * categories from the range. Both `http://hl7.org/fhir/sid/icd-10` (WHO) and
 * `http://hl7.org/fhir/sid/icd-10-cm` (US) are read with the same rules: codes that exist only
 * in one of them simply never occur in the other.
 *
 * Source: ICD-10 (WHO 2019) chapter and block titles; ICD-10-CM (CMS FY2024 tabular list) for
 * the codes marked CM.
 */
export interface IcdRule {
  readonly from: string;
  readonly to?: string;
  readonly except?: readonly string[];
  readonly categories: readonly SensitivityCategory[];
  readonly title: string;
}

export const ICD10_RULES: readonly IcdRule[] = [
  // HIV — "B20–B24 Human immunodeficiency virus [HIV] disease" (WHO; CM keeps only B20).
  { from: 'B20', to: 'B24', categories: ['HIV'], title: 'HIV disease' },
  { from: 'Z21', categories: ['HIV'], title: 'Asymptomatic HIV infection status' },
  { from: 'R75', categories: ['HIV'], title: 'Inconclusive laboratory evidence of HIV' },
  { from: 'O987', categories: ['HIV'], title: 'HIV disease complicating pregnancy, childbirth and the puerperium' },
  { from: 'Z206', categories: ['HIV'], title: 'Contact with and (suspected) exposure to HIV' },
  { from: 'Z717', categories: ['HIV'], title: 'HIV counselling' },
  { from: 'Z114', categories: ['HIV'], title: 'Encounter for screening for HIV' },
  // Substance use disorders — "F10–F19 Mental and behavioural disorders due to psychoactive
  // substance use", without F17 (tobacco), which 42 CFR Part 2 does not cover.
  { from: 'F10', to: 'F19', except: ['F17'], categories: ['ETH'], title: 'Mental and behavioural disorders due to psychoactive substance use (not tobacco)' },
  { from: 'Z7141', categories: ['ETH'], title: 'Alcohol abuse counseling and surveillance of alcoholic (CM)' },
  { from: 'Z7151', categories: ['ETH'], title: 'Drug abuse counseling and surveillance of drug abuser (CM)' },
  { from: 'O9931', categories: ['ETH'], title: 'Alcohol use complicating pregnancy, childbirth, and the puerperium (CM)' },
  { from: 'O9932', categories: ['ETH'], title: 'Drug use complicating pregnancy, childbirth, and the puerperium (CM)' },
  // Behavioural / mental health — F20–F69 and F90–F99. Not F00–F09 (organic, incl. dementia),
  // F70–F79 (intellectual disability) or F80–F89 (developmental disorders): documented gaps
  // (they belong to COGN/DVD, which this vault does not assign).
  { from: 'F20', to: 'F69', categories: ['PSY'], title: 'Schizophrenia, mood, neurotic, behavioural-syndrome and personality disorders' },
  { from: 'F90', to: 'F99', categories: ['PSY'], title: 'Behavioural and emotional disorders with onset in childhood; unspecified mental disorder' },
  { from: 'R45851', categories: ['PSY'], title: 'Suicidal ideations (CM)' },
  { from: 'T1491', categories: ['PSY'], title: 'Suicide attempt (CM)' },
  { from: 'X71', to: 'X83', categories: ['PSY'], title: 'Intentional self-harm' },
  { from: 'Z915', categories: ['PSY'], title: 'Personal history of self-harm' },
  // Sexual and reproductive health.
  { from: 'A50', to: 'A64', categories: ['SEX', 'STD'], title: 'Infections with a predominantly sexual mode of transmission' },
  { from: 'Z113', categories: ['SEX', 'STD'], title: 'Screening for infections with a predominantly sexual mode of transmission' },
  { from: 'Z202', categories: ['SEX', 'STD'], title: 'Contact with and exposure to infections with a predominantly sexual mode of transmission' },
  { from: 'O00', to: 'O08', categories: ['SEX'], title: 'Pregnancy with abortive outcome' },
  { from: 'Z30', to: 'Z34', categories: ['SEX'], title: 'Contraceptive and procreative management, pregnancy test, pregnant state, supervision of normal pregnancy' },
  { from: 'N46', categories: ['SEX'], title: 'Male infertility' },
  { from: 'N97', categories: ['SEX'], title: 'Female infertility' },
  // Genetics.
  { from: 'Z14', to: 'Z15', categories: ['GDIS'], title: 'Genetic carrier; genetic susceptibility to disease' },
  { from: 'Q90', to: 'Q99', categories: ['GDIS'], title: 'Chromosomal abnormalities, not elsewhere classified' },
  { from: 'Z137', categories: ['GDIS'], title: 'Encounter for screening for genetic and chromosomal anomalies (CM)' },
  { from: 'Z3143', categories: ['GDIS'], title: 'Encounter for genetic testing of female for procreative management (CM)' },
  { from: 'Z3144', categories: ['GDIS'], title: 'Encounter for genetic testing of male for procreative management (CM)' },
  { from: 'Z8481', categories: ['GDIS'], title: 'Family history of carrier of genetic disease (CM)' },
  // Abuse, sexual assault, domestic violence.
  { from: 'T74', categories: ['SDV'], title: 'Maltreatment syndromes (confirmed)' },
  { from: 'T76', categories: ['SDV'], title: 'Maltreatment, suspected (CM)' },
  { from: 'Y07', categories: ['SDV'], title: 'Perpetrator of maltreatment' },
  { from: 'Z044', categories: ['SDV'], title: 'Examination following alleged rape' },
  { from: 'Z69', categories: ['SDV'], title: 'Encounter for mental health services for victim and perpetrator of abuse (CM)' },
  { from: 'Z9141', categories: ['SDV'], title: 'Personal history of adult abuse (CM)' },
  { from: 'Z6281', categories: ['SDV'], title: 'Personal history of abuse in childhood (CM)' },
];

/**
 * SNOMED CT concepts (International Edition; fully specified names abbreviated). Entries
 * marked "Synthea" are the codes the Synthea demo data actually uses (checked against
 * `demo/synthea-10-patients`). Only the listed concepts trigger; descendants do not.
 */
export const SNOMED_CONCEPTS: readonly SensitiveConcept[] = [
  // HIV
  { code: '86406008', display: 'Human immunodeficiency virus infection', categories: ['HIV'] },
  { code: '62479008', display: 'Acquired immune deficiency syndrome', categories: ['HIV'] },
  { code: '165816005', display: 'Human immunodeficiency virus positive', categories: ['HIV'] },
  { code: '91947003', display: 'Asymptomatic human immunodeficiency virus infection', categories: ['HIV'] },
  { code: '31676001', display: 'Human immunodeficiency virus antigen test (Synthea)', categories: ['HIV'] },
  // Substance use
  { code: '7200002', display: 'Alcoholism', categories: ['ETH'] },
  { code: '66590003', display: 'Alcohol dependence', categories: ['ETH'] },
  { code: '15167005', display: 'Alcohol abuse', categories: ['ETH'] },
  { code: '191816009', display: 'Drug dependence', categories: ['ETH'] },
  { code: '26416006', display: 'Drug abuse', categories: ['ETH'] },
  { code: '5602001', display: 'Opioid abuse', categories: ['ETH'] },
  { code: '75544000', display: 'Opioid dependence', categories: ['ETH'] },
  { code: '361055000', display: 'Misuses drugs (Synthea)', categories: ['ETH'] },
  { code: '10939881000119105', display: 'Unhealthy alcohol drinking behavior (Synthea)', categories: ['ETH'] },
  // Behavioural / mental health
  { code: '35489007', display: 'Depressive disorder', categories: ['PSY'] },
  { code: '370143000', display: 'Major depressive disorder', categories: ['PSY'] },
  { code: '36923009', display: 'Major depression, single episode', categories: ['PSY'] },
  { code: '58214004', display: 'Schizophrenia', categories: ['PSY'] },
  { code: '13746004', display: 'Bipolar disorder', categories: ['PSY'] },
  { code: '197480006', display: 'Anxiety disorder', categories: ['PSY'] },
  { code: '80583007', display: 'Severe anxiety (panic) (Synthea)', categories: ['PSY'] },
  { code: '47505003', display: 'Posttraumatic stress disorder', categories: ['PSY'] },
  // Sexually transmitted infections
  { code: '76272004', display: 'Syphilis', categories: ['SEX', 'STD'] },
  { code: '15628003', display: 'Gonorrhea', categories: ['SEX', 'STD'] },
  { code: '105629000', display: 'Chlamydial infection', categories: ['SEX', 'STD'] },
  { code: '33839006', display: 'Genital herpes simplex', categories: ['SEX', 'STD'] },
  { code: '165829005', display: 'Gonorrhea infection titer test (Synthea)', categories: ['SEX', 'STD'] },
  { code: '269828009', display: 'Syphilis infectious titer test (Synthea)', categories: ['SEX', 'STD'] },
  { code: '310861008', display: 'Chlamydia antigen test (Synthea)', categories: ['SEX', 'STD'] },
  // Reproductive health: contraception, pregnancy state and test, pregnancy loss and termination
  { code: '72892002', display: 'Normal pregnancy (Synthea)', categories: ['SEX'] },
  { code: '156073000', display: 'Complete miscarriage (Synthea)', categories: ['SEX'] },
  { code: '19169002', display: 'Miscarriage in first trimester (Synthea)', categories: ['SEX'] },
  { code: '714812005', display: 'Induced termination of pregnancy (Synthea)', categories: ['SEX'] },
  { code: '386394001', display: 'Pregnancy termination care (Synthea)', categories: ['SEX'] },
  { code: '10383002', display: 'Counseling for termination of pregnancy (Synthea)', categories: ['SEX'] },
  { code: '252160004', display: 'Standard pregnancy test (Synthea)', categories: ['SEX'] },
  { code: '267020005', display: 'History of tubal ligation (Synthea)', categories: ['SEX'] },
  { code: '169553002', display: 'Insertion of subcutaneous contraceptive (Synthea)', categories: ['SEX'] },
  { code: '301807007', display: 'Removal of subcutaneous contraceptive (Synthea)', categories: ['SEX'] },
  { code: '65200003', display: 'Insertion of intrauterine contraceptive device (Synthea)', categories: ['SEX'] },
  { code: '46706006', display: 'Replacement of contraceptive intrauterine device (Synthea)', categories: ['SEX'] },
  { code: '68254000', display: 'Removal of intrauterine device (Synthea)', categories: ['SEX'] },
  // Genetics
  { code: '443529005', display: 'Detection of chromosomal aneuploidy in prenatal amniotic fluid specimen using FISH (Synthea)', categories: ['GDIS'] },
  // Abuse / domestic violence
  { code: '706893006', display: 'Victim of intimate partner abuse (Synthea)', categories: ['SDV'] },
];

/**
 * LOINC (loinc.org) tests. HIV: antibody/antigen screening and HIV-1 RNA (viral load) tests
 * most used in the US (the LOINC HIV tests listed by the CDC's laboratory testing guidance and
 * the "HIV 1 and 2 tests - Meaningful Use set" panel). Genetics: the panel and observation codes
 * of the HL7 Genomics Reporting IG.
 */
export const LOINC_CONCEPTS: readonly SensitiveConcept[] = [
  { code: '7917-8', display: 'HIV 1 Ab [Presence] in Serum', categories: ['HIV'] },
  { code: '5221-7', display: 'HIV 1 Ab [Presence] in Serum by Immunoblot', categories: ['HIV'] },
  { code: '29893-5', display: 'HIV 1 Ab [Presence] in Serum or Plasma by Immunoassay', categories: ['HIV'] },
  { code: '68961-2', display: 'HIV 1 Ab [Presence] in Serum, Plasma or Blood by Rapid immunoassay', categories: ['HIV'] },
  { code: '56888-1', display: 'HIV 1+2 Ab+HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay', categories: ['HIV'] },
  { code: '75622-1', display: 'HIV 1 and 2 tests - Meaningful Use set', categories: ['HIV'] },
  { code: '25835-0', display: 'HIV 1 RNA [Presence] in Serum or Plasma by NAA with probe detection', categories: ['HIV'] },
  { code: '20447-9', display: 'HIV 1 RNA [#/volume] (viral load) in Serum or Plasma by NAA with probe detection', categories: ['HIV'] },
  { code: '10351-5', display: 'HIV 1 RNA [Units/volume] (viral load) in Serum or Plasma by NAA with probe detection', categories: ['HIV'] },
  { code: '51969-4', display: 'Genetic analysis report', categories: ['GDIS'] },
  { code: '55232-3', display: 'Genetic analysis summary panel', categories: ['GDIS'] },
  { code: '81247-9', display: 'Master HL7 genetic variant reporting panel', categories: ['GDIS'] },
  { code: '69548-6', display: 'Genetic variant assessment', categories: ['GDIS'] },
  { code: '48018-6', display: 'Gene studied [ID]', categories: ['GDIS'] },
  { code: '53037-8', display: 'Genetic disease assessed [ID]', categories: ['GDIS'] },
];

/**
 * RxNorm (RxNav, National Library of Medicine). HIV: the ingredients of antiretrovirals used
 * only for HIV.
 * Lamivudine and tenofovir are left out on purpose: they also treat hepatitis B. Ritonavir is
 * left out: it boosts non-HIV drugs too (e.g. nirmatrelvir for COVID-19).
 *
 * Known gap: MedicationRequests usually carry clinical-drug codes (SCD/SBD), not ingredient
 * codes; those match only if the ingredient code is also present (e.g. in
 * Medication.ingredient) or the clinical-drug codes are added here.
 */
export const RXNORM_CONCEPTS: readonly SensitiveConcept[] = [
  { code: '11413', display: 'zidovudine', categories: ['HIV'] },
  { code: '3364', display: 'didanosine', categories: ['HIV'] },
  { code: '59763', display: 'stavudine', categories: ['HIV'] },
  { code: '190521', display: 'abacavir', categories: ['HIV'] },
  { code: '276237', display: 'emtricitabine', categories: ['HIV'] },
  { code: '195085', display: 'efavirenz', categories: ['HIV'] },
  { code: '53654', display: 'nevirapine', categories: ['HIV'] },
  { code: '195088', display: 'lopinavir', categories: ['HIV'] },
  { code: '343047', display: 'atazanavir', categories: ['HIV'] },
  { code: '460132', display: 'darunavir', categories: ['HIV'] },
  { code: '719872', display: 'raltegravir', categories: ['HIV'] },
  { code: '1433868', display: 'dolutegravir', categories: ['HIV'] },
  // Hormonal and intrauterine contraceptives, as clinical drugs / branded packs: the codes the
  // Synthea demo data uses (checked against demo/synthea-10-patients).
  { code: '1367439', display: 'NuvaRing 0.12/0.015 MG per 24HR 21 Day Vaginal System (Synthea)', categories: ['SEX'] },
  { code: '1856546', display: 'Kyleena 19.5 MG Intrauterine System (Synthea)', categories: ['SEX'] },
  { code: '807283', display: 'Mirena 52 MG Intrauterine System (Synthea)', categories: ['SEX'] },
  { code: '389221', display: 'Etonogestrel 68 MG Drug Implant (Synthea)', categories: ['SEX'] },
  { code: '748962', display: 'Camila 28 Day Pack (Synthea)', categories: ['SEX'] },
  { code: '749762', display: 'Seasonique 91 Day Pack (Synthea)', categories: ['SEX'] },
  { code: '831533', display: 'Errin 28 Day Pack (Synthea)', categories: ['SEX'] },
  { code: '978950', display: 'Natazia 28 Day Pack (Synthea)', categories: ['SEX'] },
];

/**
 * CIEL concepts (Columbia International eHealth Laboratory dictionary, used by OpenMRS;
 * https://app.openconceptlab.org/#/orgs/CIEL/sources/CIEL/), recognised in their OpenMRS
 * concept-UUID form: the concept number padded with `A` to 36 characters, e.g.
 * `856AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` (HIV viral load). That form cannot be a SNOMED CT,
 * LOINC, RxNorm or ICD code, so it is recognised under ANY system: the Synthea HIV bundles
 * (google/fhir-data-pipes `synthea-hiv`) carry these UUIDs with `http://loinc.org` and
 * `http://snomed.info/sct` as the system.
 *
 * Every entry below occurs in `test/fixtures/synthea-hiv-bundles`, with the display shown.
 * Antiretroviral drugs that are only HIV drugs are listed; lamivudine and tenofovir alone are
 * not (hepatitis B), as in {@link RXNORM_CONCEPTS}. Not labelled: CD4 panel (657; CD4 counts
 * are also used outside HIV care) — a documented gap.
 */
export const CIEL_CONCEPTS: readonly SensitiveConcept[] = [
  { code: '856', display: 'HIV viral load', categories: ['HIV'] },
  { code: '1030', display: 'HIV DNA polymerase chain reaction, qualitative', categories: ['HIV'] },
  { code: '1040', display: 'HIV rapid test, qualitative', categories: ['HIV'] },
  { code: '1042', display: 'HIV enzyme immunoassay, qualitative', categories: ['HIV'] },
  { code: '1088', display: 'Current antiretroviral drugs used for treatment', categories: ['HIV'] },
  { code: '1250', display: 'Antiretrovirals started', categories: ['HIV'] },
  { code: '1255', display: 'Antiretroviral plan', categories: ['HIV'] },
  { code: '159911', display: 'Patient reported current antiretroviral treatment', categories: ['HIV'] },
  { code: '5424', display: 'Other antiretroviral drug', categories: ['HIV'] },
  { code: '86663', display: 'Zidovudine', categories: ['HIV'] },
  { code: '74807', display: 'Didanosine', categories: ['HIV'] },
  { code: '84309', display: 'Stavudine', categories: ['HIV'] },
  { code: '70056', display: 'Abacavir', categories: ['HIV'] },
  { code: '75523', display: 'Efavirenz', categories: ['HIV'] },
  { code: '80586', display: 'Nevirapine', categories: ['HIV'] },
  { code: '80487', display: 'Nelfinavir', categories: ['HIV'] },
  { code: '794', display: 'Lopinavir / ritonavir', categories: ['HIV'] },
  { code: '630', display: 'Lamivudine / zidovudine', categories: ['HIV'] },
  { code: '817', display: 'Abacavir / lamivudine / zidovudine', categories: ['HIV'] },
  { code: '1652', display: 'Lamivudine / nevirapine / zidovudine', categories: ['HIV'] },
  { code: '104565', display: 'Efavirenz / emtricitabine / tenofovir disoproxil', categories: ['HIV'] },
  { code: '104567', display: 'Emtricitabine / tenofovir disoproxil', categories: ['HIV'] },
  { code: '299', display: 'VDRL (syphilis test)', categories: ['SEX', 'STD'] },
  { code: '1619', display: 'Rapid plasma reagin (syphilis test)', categories: ['SEX', 'STD'] },
  { code: '1032', display: 'Treponema pallidum hemagglutination assay, qualitative (syphilis test)', categories: ['SEX', 'STD'] },
  { code: '45', display: 'Urine pregnancy test', categories: ['SEX'] },
];

/**
 * Resource types that are sensitive whatever they contain: a MolecularSequence is genetic
 * information (R4 molecularsequence.html).
 */
export const SENSITIVE_RESOURCE_TYPES: ReadonlyMap<string, readonly SensitivityCategory[]> = new Map([['MolecularSequence', ['GDIS']]]);
