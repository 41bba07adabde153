/**
 * Reference data: resource types that describe the world a record lives in —
 * organisations, people who provide care, places, products, definitions, terminology,
 * conformance — and never hold data about one patient.
 *
 * A request bound to one patient's compartment (a patient user, or `patient/` scopes)
 * reaches these types freely and every other type only inside that compartment. The
 * list is an allow-list (deny by default): a type the official Patient
 * CompartmentDefinition leaves out but that can still carry a patient's data (Binary,
 * Bundle, Task, Contract, Device, GuidanceResponse, MessageHeader, Linkage,
 * VerificationResult, PaymentNotice, …) is not here, so for such requests it is
 * visible only through compartment membership — which it never has, so it is hidden.
 * R4 resourcelist.html groups these types under Administration (Entities), Definitional
 * Artifacts, Conformance, Terminology and Medication Definition.
 */
const REFERENCE_DATA_TYPES: ReadonlySet<string> = new Set([
  // Entities (administration.html)
  'Organization',
  'OrganizationAffiliation',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'HealthcareService',
  'Endpoint',
  'InsurancePlan',
  'Slot',
  // Products and substances (medications.html, substances)
  'Medication',
  'MedicationKnowledge',
  'MedicinalProduct',
  'MedicinalProductAuthorization',
  'MedicinalProductContraindication',
  'MedicinalProductIndication',
  'MedicinalProductIngredient',
  'MedicinalProductInteraction',
  'MedicinalProductManufactured',
  'MedicinalProductPackaged',
  'MedicinalProductPharmaceutical',
  'MedicinalProductUndesirableEffect',
  'Substance',
  'SubstanceNucleicAcid',
  'SubstancePolymer',
  'SubstanceProtein',
  'SubstanceReferenceInformation',
  'SubstanceSourceMaterial',
  'SubstanceSpecification',
  'DeviceDefinition',
  'ObservationDefinition',
  'SpecimenDefinition',
  'ChargeItemDefinition',
  'CatalogEntry',
  // Definitional artifacts and evidence (definition.html)
  'ActivityDefinition',
  'PlanDefinition',
  'EventDefinition',
  'Questionnaire',
  'Measure',
  'Library',
  'Evidence',
  'EvidenceVariable',
  'EffectEvidenceSynthesis',
  'RiskEvidenceSynthesis',
  'ResearchDefinition',
  'ResearchElementDefinition',
  'ResearchStudy',
  // Conformance and terminology (conformance-module.html, terminology-module.html)
  'CapabilityStatement',
  'CompartmentDefinition',
  'ExampleScenario',
  'GraphDefinition',
  'ImplementationGuide',
  'MessageDefinition',
  'OperationDefinition',
  'SearchParameter',
  'StructureDefinition',
  'StructureMap',
  'TerminologyCapabilities',
  'TestScript',
  'CodeSystem',
  'ValueSet',
  'ConceptMap',
  'NamingSystem',
]);

export function isReferenceData(type: string): boolean {
  return REFERENCE_DATA_TYPES.has(type);
}
