/** The npm `onvif` client's pull-point calls (0.8.x), beside the parts declared in onvif-lib.d.ts. */
declare module 'onvif' {
  interface Cam {
    createPullPointSubscription(
      callback: (
        err: Error | null,
        subscription: { subscriptionReference: { address: { href: string } } },
        xml?: string,
      ) => void,
    ): void;
    pullMessages(
      options: { messageLimit?: number },
      callback: (err: Error | null, response: { currentTime: unknown } | undefined, xml?: string) => void,
    ): void;
    unsubscribe(callback: (err: Error | null, response: unknown, xml?: string) => void): void;
    getEventProperties(callback: (err: Error | null, properties: unknown, xml?: string) => void): void;
  }
}
