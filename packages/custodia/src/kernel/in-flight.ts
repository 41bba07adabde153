/**
 * How many requests a server is serving right now. The composition root makes one, the
 * server counts every request into it from arrival to the end of its response, and the
 * store reads it to decide whether blocking the event loop for an fsync would stall
 * anyone but the writers waiting for that fsync anyway (store/group-commit.ts).
 */
export class InFlight {
  #count = 0;

  get count(): number {
    return this.#count;
  }

  /** One request has arrived; the returned function ends it (calls after the first do nothing). */
  enter(): () => void {
    this.#count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#count--;
    };
  }
}
