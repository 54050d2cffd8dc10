"""The profiling guide's sorts: insertion sort is O(n^2), merge sort
O(n log n).  Usage: py_sort.py [N] [ROUNDS]; prints the time of each."""
import sys
import time


def insertion_sort(arr):
    # Traverse through 1 to len(arr)
    for i in range(1, len(arr)):
        key = arr[i]
        j = i - 1
        while j >= 0 and key < arr[j]:
            arr[j + 1] = arr[j]
            j -= 1
        arr[j + 1] = key


def merge_sort(arr):
    if len(arr) > 1:
        mid = len(arr) // 2
        L = arr[:mid]
        R = arr[mid:]
        merge_sort(L)
        merge_sort(R)
        i = j = k = 0
        while i < len(L) and j < len(R):
            if L[i] < R[j]:
                arr[k] = L[i]
                i += 1
            else:
                arr[k] = R[j]
                j += 1
            k += 1
        while i < len(L):
            arr[k] = L[i]
            i += 1
            k += 1
        while j < len(R):
            arr[k] = R[j]
            j += 1
            k += 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    for _ in range(rounds):
        for sort in (insertion_sort, merge_sort):
            arr = list(range(n, 0, -1))
            t = time.perf_counter()
            sort(arr)
            assert arr == sorted(arr)
            print("%s %.3f s" % (sort.__name__, time.perf_counter() - t), flush=True)


if __name__ == "__main__":
    main()
