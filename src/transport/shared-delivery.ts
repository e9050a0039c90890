import type { GraphQLError } from 'graphql';
import WebSocket from 'ws';
import { ExecutionGroup, ExecutionGroups, FrameWaiter, PreparedFrame, frameFor } from '../balances/shared-execution';
import type { LatestWinsQueue } from '../balances/latest-wins-queue';
import type { BalanceView } from '../read-model/views';
import { Stoppable, asGraphQLError } from './graphql-transport-ws';

/** Above this many bytes waiting in a socket, a shared delivery waits for its write before taking the next balance. */
export const BACKPRESSURE_BYTES = 64 * 1024;
/** Shared frames are UTF-8 bytes of JSON text: sent as text frames, as graphql-ws clients expect. */
const TEXT = { binary: false };

/** What a delivery needs of its connection: the socket it writes to, and how to end its operation. */
export interface DeliveryConnection {
  readonly socket: Pick<WebSocket, 'readyState' | 'bufferedAmount' | 'send'>;
  end(id: string, errors?: readonly GraphQLError[]): void;
}

/**
 * One shared subscription's delivery (issue 13). Started as any other subscription (createSourceEventStream ran its
 * `subscribe`: the authorisation, NOT_FOUND and audit are the subscriber's own), it then takes each balance its own
 * stream holds, has its group turn it into a frame, and writes that frame to its socket. While the socket keeps up,
 * it writes and takes the next at once; once a socket has more than BACKPRESSURE_BYTES waiting, the next balance is
 * taken only when that write is done, so the stream's latest-wins queue holds the newest balance per patient for a
 * slow socket, and versions only rise, per subscriber, as before. A class, not closures: an idle subscription holds
 * one small object.
 */
export class SharedDelivery implements Stoppable, FrameWaiter {
  private stopped = false;

  constructor(
    private readonly connection: DeliveryConnection,
    private readonly id: string,
    private readonly log: { note(code: string): void },
    private readonly group: ExecutionGroup,
    private readonly groups: ExecutionGroups,
    private readonly source: LatestWinsQueue<BalanceView>,
  ) {
    this.pull();
  }

  /** Writes what the stream holds until it holds nothing (then waits to be woken) or the socket must catch up. */
  private pull(): void {
    while (!this.stopped) {
      const balance = this.source.take();
      if (balance === undefined) {
        if (this.source.closed) return this.end();
        this.source.waker = this;
        return;
      }
      const prepared = this.group.prepare(balance, this);
      // Not built yet: `framed` is called when it is.
      if (!prepared) return;
      if (!this.send(prepared)) return;
    }
  }

  /** Writes one frame; false when the next must wait (for this write to finish, or for good). */
  private send(prepared: PreparedFrame): boolean {
    if (this.stopped) return false;
    const socket = this.connection.socket;
    if (socket.readyState !== WebSocket.OPEN) {
      this.end();
      return false;
    }
    for (const code of prepared.codes) this.log.note(code);
    const frame = frameFor(prepared, this.id);
    if (socket.bufferedAmount < BACKPRESSURE_BYTES) {
      socket.send(frame, TEXT);
      return true;
    }
    // The callback comes once the frame was handed to the kernel; an error means the socket is going away.
    socket.send(frame, TEXT, (error) => (error ? this.end() : this.pull()));
    return false;
  }

  /** The queue has a value (or closed). */
  wake(): void {
    this.pull();
  }

  /** The group built the frame this delivery waited for. */
  framed(frame: PreparedFrame): void {
    if (this.send(frame)) this.pull();
  }

  failed(error: unknown): void {
    this.end([asGraphQLError(error)]);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.groups.leave(this.group);
    void this.source.return();
  }

  /** The stream ended (or failed): the client is told, and the operation's log line written. */
  private end(errors?: readonly GraphQLError[]): void {
    this.stop();
    this.connection.end(this.id, errors);
  }
}
