/**
 * Reading Export and Get Attributes answers in the tests of Export and Import (KMIP 1.4 §4.40-§4.41, 2.1 §6.1.18,
 * §6.1.25): the object structure and the attributes as a version writes them (2.x one Attributes structure, 1.x a
 * list of Attribute structures), compared as text, since both come from the same XML writer.
 */
import { v2, type Answer, type Version } from './crypto-client.js';

/** The first `<tag>...</tag>` element of an answer (the object structure, the 2.x Attributes). */
export function element(xml: string, tag: string): string {
  const found = new RegExp(`<${tag}>[\\s\\S]*?</${tag}>`).exec(xml)?.[0];
  if (found === undefined) throw new Error(`no ${tag} in\n${xml}`);
  return found;
}

/** The attributes of an answer as written: the 2.x Attributes structure, or the 1.x Attribute structures. */
export function attributesOf(answer: Answer, version: Version): string {
  return v2(version)
    ? element(answer.xml, 'Attributes')
    : [...answer.xml.matchAll(/<Attribute>[\s\S]*?<\/Attribute>/g)].map((m) => m[0]).join('\n');
}

/** The Fresh attribute with a value, as a version writes it. */
export function freshIs(version: Version, value: boolean): RegExp {
  return v2(version)
    ? new RegExp(`<Fresh type="Boolean" value="${String(value)}"/>`)
    : new RegExp(
        `<AttributeName type="TextString" value="Fresh"/>\\s*<AttributeValue type="Boolean" value="${String(value)}"/>`,
      );
}
