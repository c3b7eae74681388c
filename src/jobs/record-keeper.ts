// Keeps track of a capture's records (manifest entries of frames and merges) landing in the background:
// the first failure is kept for the capture loop to throw, and the loop can wait for all of them at the end.

export class RecordKeeper {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;

  /** Starts tracking `record`; its failure is kept for throwIfFailed (the first one wins). */
  track(record: Promise<void>): void {
    const tracked = record.then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Waits for every record; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every record, whatever became of them (after a cancel or a failure). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }
}
