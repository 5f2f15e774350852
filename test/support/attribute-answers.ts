/**
 * Reading Get Attributes answers in tests, in either version's form: 2.x gives each attribute under its own tag,
 * 1.x as Attribute { Attribute Name, Attribute Value }.
 */
import { uidXml, v2, type Answer, type Version, type VersionedClient } from './crypto-client.js';

/** Every attribute of an object, as Get Attributes without names gives them. */
export function allAttributes(kmip: VersionedClient, uid: string): Promise<Answer> {
  return kmip.must('GetAttributes', uidXml(uid));
}

/** Every value of one field in an answer (e.g. each NameValue). */
export function values(answer: Answer, element: string): string[] {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const v = answer.value(element, i);
    if (v === undefined) return out;
    out.push(v);
  }
}

/**
 * The value of a single-valued scalar attribute in a Get Attributes answer: its own element in 2.x, the Attribute
 * Value beside its Attribute Name in 1.x.
 */
export function scalar(answer: Answer, version: Version, tag: string): string | undefined {
  if (v2(version)) return answer.value(tag);
  const spaced = tag.replace(/([a-z])([A-Z])/g, '$1 $2');
  const pattern = new RegExp(
    `<AttributeName type="TextString" value="${spaced}"/>\\s*<AttributeValue type="[A-Za-z]+" value="([^"]*)"/>`,
  );
  return pattern.exec(answer.xml)?.[1];
}

/** Whether a Get Attributes answer holds an attribute at all. */
export function holds(answer: Answer, version: Version, tag: string): boolean {
  return v2(version)
    ? answer.has(tag)
    : answer.xml.includes(`value="${tag.replace(/([a-z])([A-Z])/g, '$1 $2')}"`);
}

/** A Date-Time attribute of an answer as seconds since the epoch. */
export function seconds(answer: Answer, version: Version, tag: string): number | undefined {
  const v = scalar(answer, version, tag);
  return v === undefined ? undefined : Date.parse(v) / 1000;
}

/** The linked object of each Link of a type. */
export function linked(answer: Answer, type: string): string[] {
  const links = [
    ...answer.xml.matchAll(
      /<LinkType type="Enumeration" value="([^"]+)"\/>\s*<LinkedObjectIdentifier type="TextString" value="([^"]+)"\/>/g,
    ),
  ];
  return links.filter(([, t]) => t === type).map(([, , uid]) => uid ?? '');
}
