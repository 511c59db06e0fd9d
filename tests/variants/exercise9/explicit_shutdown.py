"""Exercise 9 — correct variant: m = Manager() ... m.shutdown() in finally; lists stored back as they grow."""

from multiprocessing import Manager, Process


def post_example(dct, lst):
    dct[88] = 88
    lst.reverse()


def run_post_example():
    m = Manager()
    try:
        dct = m.dict()
        lst = m.list(range(5, 10))
        p = Process(target=post_example, args=(dct, lst))
        p.start()
        p.join()
        return dct.copy(), lst[:]
    finally:
        m.shutdown()


def take_tickets(worker_id, times, tickets, ns, lock):
    tickets[worker_id] = []
    for _ in range(times):
        lock.acquire()
        try:
            ticket = ns.next
            ns.next += 1
        finally:
            lock.release()
        mine = tickets[worker_id]  # a copy: change it, then store it back
        mine.append(ticket)
        tickets[worker_id] = mine


def run_ticket_office(n_workers, times):
    m = Manager()
    try:
        tickets, ns, lock = m.dict(), m.Namespace(next=0), m.Lock()
        workers = []
        for i in range(n_workers):
            p = Process(target=take_tickets, args=(i, times, tickets, ns, lock))
            p.start()
            workers.append(p)
        for p in workers:
            p.join()
        return {k: list(v) for k, v in tickets.items()}, ns.next
    finally:
        m.shutdown()


if __name__ == "__main__":
    print(run_post_example())
    print(run_ticket_office(3, 5))
