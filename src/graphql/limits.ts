import {
  ASTNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLNamedType,
  GraphQLOutputType,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromASTUntyped,
} from 'graphql';

/**
 * Limits on what one operation may ask for, chosen from the real schema: the deepest screen query
 * (patient → charges → edges → node → responsibilities → writeOffs → canRemove → allowed) is 8 levels, and a
 * 100-charge page of a patient with every line, write-off and availability field costs about 200,000, while nesting
 * one page of 100 inside another (patients → charges) costs millions. Applied on HTTP and WebSocket alike.
 */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  /** Σ over fields of (1 × the list sizes above them). */
  maxCost: 250_000,
  /** Lists without `first` (a charge's lines, a line's write-offs) are assumed this long. */
  assumedListSize: 5,
  maxTokens: 5_000,
} as const;

function tooComplex(message: string, node: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } });
}

interface Measure {
  depth: number;
  cost: number;
  aliases: number;
}

function measure(
  context: ValidationContext,
  fragments: Record<string, FragmentDefinitionNode>,
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  level: number,
): Measure {
  const total: Measure = { depth: level, cost: 0, aliases: 0 };
  if (level > QUERY_LIMITS.maxDepth + 1) return total; // deep enough to refuse; stop walking (also ends fragment cycles)
  for (const selection of selectionSet.selections) {
    let inner: Measure | null = null;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) total.aliases += 1;
      const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[selection.name.value] : undefined;
      const type: GraphQLOutputType | undefined = field?.type;
      let multiplier = 1;
      if (type && isListType(getNullableType(type))) multiplier = QUERY_LIMITS.assumedListSize;
      const first = selection.arguments?.find((a) => a.name.value === 'first');
      if (first) {
        // A variable's value is unknown while validating (and validation is cached): assume the largest page.
        const value = first.value.kind === Kind.VARIABLE ? 100 : Number(valueFromASTUntyped(first.value));
        multiplier = Number.isFinite(value) && value > 0 ? Math.min(value, 100) : 20;
      } else if (field?.args.some((a) => a.name === 'first')) {
        multiplier = 20;
      }
      total.cost += 1;
      if (selection.selectionSet) {
        const child = measure(context, fragments, selection.selectionSet, type ? getNamedType(type) : undefined, level + 1);
        inner = { depth: child.depth, cost: child.cost * multiplier, aliases: child.aliases };
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? context.getSchema().getType(selection.typeCondition.name.value) ?? parent : parent;
      inner = measure(context, fragments, selection.selectionSet, type, level);
    } else {
      const fragment = fragments[selection.name.value];
      if (fragment) inner = measure(context, fragments, fragment.selectionSet, context.getSchema().getType(fragment.typeCondition.name.value) ?? undefined, level);
    }
    if (inner) {
      total.depth = Math.max(total.depth, inner.depth);
      total.cost += inner.cost;
      total.aliases += inner.aliases;
    }
  }
  return total;
}

/** Refuses operations that are too deep, use too many aliases, or would cost too much to answer. */
export const queryLimitsRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    const fragments = Object.fromEntries(
      context
        .getDocument()
        .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    const root = context.getSchema().getRootType(operation.operation) ?? undefined;
    const { depth, cost, aliases } = measure(context, fragments, operation.selectionSet, root, 0);
    if (depth > QUERY_LIMITS.maxDepth) context.reportError(tooComplex(`The query is nested too deeply: at most ${QUERY_LIMITS.maxDepth} levels.`, operation));
    if (aliases > QUERY_LIMITS.maxAliases) context.reportError(tooComplex(`The query uses too many aliases: at most ${QUERY_LIMITS.maxAliases}.`, operation));
    if (cost > QUERY_LIMITS.maxCost) {
      context.reportError(tooComplex(`The query asks for too much at once (cost ${cost}, limit ${QUERY_LIMITS.maxCost}): request smaller pages.`, operation));
    }
  },
});
