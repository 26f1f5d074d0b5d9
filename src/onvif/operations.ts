/**
 * The frame the ONVIF services at one path share (device, media, media2, imaging): the path, the
 * namespace a call must be in, the `<prefix:OperationResponse>` element around each answer, and the
 * fault for an operation the service does not have. A service is then a table of its operations.
 */
import {
  expectNamespace,
  NAMESPACES,
  notSupported,
  type SoapCall,
  type SoapReply,
  type SoapService,
} from './soap.js';

/** What an operation answers: the XML inside its response element, and what runs once it is sent. */
export type OperationAnswer = string | { inner: string; after: () => void };

export type Operation = (call: SoapCall) => OperationAnswer | Promise<OperationAnswer>;

export abstract class OperationService implements SoapService {
  /** The URL path this service answers at. */
  protected abstract readonly path: string;
  /** Its namespace's prefix, which also names the response elements. */
  protected abstract readonly prefix: keyof typeof NAMESPACES;
  /** The service in a fault's reason: `X is not <what> operation`. */
  protected abstract readonly what: string;
  protected abstract readonly operations: Readonly<Record<string, Operation>>;

  handles(path: string): boolean {
    return path === this.path;
  }

  async handle(call: SoapCall): Promise<SoapReply> {
    expectNamespace(call, NAMESPACES[this.prefix], this.what);
    // Own keys only: an operation named `constructor` or `toString` is not one of ours.
    const operation = Object.hasOwn(this.operations, call.operation)
      ? this.operations[call.operation]
      : undefined;
    if (!operation) throw notSupported(call);
    const answer = await operation(call);
    const element = `${this.prefix}:${call.operation}Response`;
    if (typeof answer === 'string') return { body: `<${element}>${answer}</${element}>` };
    return { body: `<${element}>${answer.inner}</${element}>`, after: answer.after };
  }
}
