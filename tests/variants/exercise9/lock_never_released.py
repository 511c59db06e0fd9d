"""Exercise 9, hangs: a worker takes the managed lock and never releases it."""

from multiprocessing import Manager, Process


def post_example(dct, lst):
    """The post's func: both calls go to the manager's server."""
    dct[88] = 88
    lst.reverse()


def run_post_example():
    """The post's example, with the manager shut down and plain copies returned."""
    with Manager() as manager:
        dct = manager.dict()
        lst = manager.list(range(5, 10))
        child = Process(target=post_example, args=(dct, lst))
        child.start()
        child.join()
        return dict(dct), list(lst)


def take_tickets(worker_id, times, tickets, ns, lock):
    """Read and bump ns.next under the managed lock; store this worker's list once."""
    mine = []
    for _ in range(times):
        lock.acquire()  # BUG: never released
        ticket = ns.next
        ns.next = ticket + 1
        mine.append(ticket)
    tickets[worker_id] = mine


def run_ticket_office(n_workers, times):
    """One manager, its dict, Namespace and Lock shared by every child."""
    with Manager() as manager:
        tickets = manager.dict()
        ns = manager.Namespace(next=0)
        lock = manager.Lock()
        workers = [Process(target=take_tickets, args=(i, times, tickets, ns, lock)) for i in range(n_workers)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return dict(tickets), ns.next


if __name__ == "__main__":
    print(run_post_example())
    tickets, handed_out = run_ticket_office(3, 5)
    print(tickets, handed_out)
