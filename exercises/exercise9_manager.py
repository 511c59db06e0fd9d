"""Exercise 9 — Manager: a server process for shared objects.

`Manager()` starts a server process that holds ordinary Python objects (dict, list,
Namespace, Lock, ...) and hands out *proxies*: every method called on a proxy, in any
process, is sent to the server and done there.

    with Manager() as manager:               # starts the server; shuts it down at the end
        d = manager.dict()                   # a DictProxy
        lst = manager.list(range(5, 10))     # a ListProxy
        ns = manager.Namespace(count=0)      # attributes: ns.count
        lock = manager.Lock()                # a lock every process can use
        p = Process(target=func, args=(d, lst)); p.start(); p.join()
        copy = dict(d)                       # a plain dict, made while the server runs

- Only calls on the proxy itself reach the server: `d[k] = v`, `lst.reverse()`,
  `ns.count = 5`. `d[k]` returns a *copy* of the value, so `d[k].append(x)` changes that
  copy and is lost; read the value, change it, and store it back with `d[k] = value`.
- `ns.count += 1` is two requests (read, then write): two processes can both read 5 and
  both write 6. Hold a managed lock around the read and the write.
- A proxy works only while its manager runs. Copy what you need (`dict(d)`, `list(lst)`)
  before the manager shuts down, and shut it down: `with Manager() as m:`, or
  `m.shutdown()` in a `finally:`.
- The source post (Python 2) creates its Manager at module level, never shuts it down,
  and prints with `print dct, '|', lst`. In Python 3: keep it under
  `if __name__ == "__main__":` (spawn children import your module), use a with-block, and
  `print(dct, '|', lst)`.

Run `grade exercise9` to check your work, `grade hint exercise9` for a hint.
"""

from multiprocessing import Manager, Process


def post_example(dct, lst):
    """Runs in a child (the post's func): set dct[88] = 88 and reverse lst in place."""
    # TODO
    raise NotImplementedError


def run_post_example():
    """The post's example, done right. With a Manager, make a managed dict (empty) and a
    managed list of range(5, 10); run post_example(dct, lst) in a child and join it.
    Return plain copies: (a dict, a list), i.e. ({88: 88}, [9, 8, 7, 6, 5]).
    """
    # TODO: with Manager() as manager: ... make the dict and the list, start and join the child
    # TODO: return plain copies, made before the manager shuts down
    raise NotImplementedError


def take_tickets(worker_id, times, tickets, ns, lock):
    """Runs in a child. Take `times` tickets, one after another. Taking a ticket: the
    ticket is the value of ns.next, and ns.next goes up by one — both under `lock`, so
    that no two workers get the same ticket. At the end, tickets[worker_id] must be the
    list of the tickets this worker took, in the order it took them.
    """
    # TODO: take `times` tickets under the lock, then store this worker's list in tickets[worker_id]
    raise NotImplementedError


def run_ticket_office(n_workers, times):
    """With one Manager, make a dict `tickets`, a Namespace with next=0, and a Lock. Start
    n_workers children running take_tickets(i, times, tickets, ns, lock), i = 0, 1, ...,
    and join them all. Return (a plain dict copy of tickets, the final ns.next).
    """
    # TODO: the manager, its three objects, the children
    # TODO: return plain copies, and shut the manager down
    raise NotImplementedError


if __name__ == "__main__":
    print(run_post_example())
    tickets, handed_out = run_ticket_office(3, 5)
    print(tickets, handed_out)
