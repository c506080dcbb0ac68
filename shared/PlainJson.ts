import { Either, type ParseResult, Schema, type SchemaAST as AST } from "effect"

/**
 * Whether a schema's encoded form is its decoded form: structs, records, tuples, unions, literals, strings,
 * numbers, booleans, null, refinements of those — no transformation and no declared type (dates, DateTime,
 * Option, classes) anywhere in it. For such a schema, encoding a value the program built from decoded,
 * typed parts changes nothing but to check it again and drop keys the schema does not name.
 */
export const isPlain = (schema: Schema.Schema.Any): boolean => plainAst(schema.ast, new Set())

const plainAst = (ast: AST.AST, seen: Set<AST.AST>): boolean => {
  if (seen.has(ast)) return true
  seen.add(ast)
  switch (ast._tag) {
    case "Literal":
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "UndefinedKeyword":
    case "TemplateLiteral":
    case "Enums":
      return true
    case "Refinement":
      return plainAst(ast.from, seen)
    case "Union":
      return ast.types.every((t) => plainAst(t, seen))
    case "TupleType":
      return ast.elements.every((e) => plainAst(e.type, seen)) && ast.rest.every((r) => plainAst(r.type, seen))
    case "TypeLiteral":
      return (
        ast.propertySignatures.every((p) => plainAst(p.type, seen)) &&
        ast.indexSignatures.every((i) => plainAst(i.type, seen))
      )
    case "Suspend":
      return plainAst(ast.f(), seen)
    default:
      // Transformation, Declaration, unknown/any/object keywords (whatever they hold), symbols, bigints
      return false
  }
}

/**
 * The encoder of a value the program built, for a message it sends: the schema's own encoder, or for a plain
 * schema (`isPlain`) the value as it is. Every receiver decodes what it reads with the same schema (the batch
 * caller and handler, the caches' readers): a message is validated once, where it arrives, not again before it
 * leaves. Encoding a fresh scan's answer, view and garment record cost the gateway and knowledge 3–4 % of their
 * CPU in a cold round (docs/scan-bench.md).
 */
export const encoderOf = <A, I>(
  schema: Schema.Schema<A, I, never>
): ((a: A) => Either.Either<I, ParseResult.ParseError>) =>
  isPlain(schema) ? (a) => Either.right(a as unknown as I) : Schema.encodeEither(schema)

/** The JSON text of a value the program built: `JSON.stringify` for a plain schema, else encoded first. */
export const jsonEncoderOf = <A, I>(schema: Schema.Schema<A, I, never>): ((a: A) => string) => {
  if (isPlain(schema)) return (a) => JSON.stringify(a)
  const encode = Schema.encodeSync(schema)
  return (a) => JSON.stringify(encode(a))
}
