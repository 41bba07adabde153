/**
 * Describes the JSON type of a value for diagnostics: the type only, never the value
 * (patient data must not reach logs or error responses).
 *
 * @example
 *   describeJsonType([1]) // 'an array'
 */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return 'a value that is not JSON';
  }
}
