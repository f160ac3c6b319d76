// The benchmark's load client: plain sockets and epoll in one thread, so its own cost is small and its clock
// is read the moment bytes arrive.
//
//   bench_load stream --port P --streams C --chunks N [--ramp-ms R] [--rounds K] [--path ...] [--key K]
//       [--model M]
//       C concurrent streaming requests, all at once or started evenly over R ms (K times in a row); times
//       the first content chunk (TTFT, from the request's send), the gaps between chunks, and each chunk's
//       delivery (arrival minus the send time bench_upstream stamped in it). Every stream must end with all N
//       chunks and [DONE]; the figures are printed as key=value lines. With --path /v1/responses the
//       request and the stream are the Responses API's (output_text deltas, ending with response.completed).
//   bench_load whole --port P --requests R --connections C [--path ...] [--key K] [--model M]
//       R non-streaming requests over C keep-alive connections; counts the 200s.
//   bench_load health --port P [--timeout-ms T] [--log FILE] -- command args...
//       Starts the command and prints the milliseconds until GET /health answers 200 (and the child's pid).

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

long long nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Options
{
    std::string mode;
    int port = 0;
    std::string path = "/v1/chat/completions";
    std::string key;
    std::string model = "bench";
    int streams = 1;
    int chunks = 20;
    int requests = 1000;
    int connections = 1;
    int timeoutMs = 120000;
    int rampMs = 0;  // stream: start the streams evenly over this time instead of all at once
    int rounds = 1;  // stream: run the set of streams this many times, one after the other
    std::string log; // health: the command's stdout and stderr go here
    std::vector<char *> command;
};

int connectTo(int port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

// A path of the OpenAI Responses API: its body has `input`, its text arrives in response.output_text.delta
// events and its stream ends with response.completed instead of [DONE].
bool isResponses(const Options &o)
{
    return o.path.find("/responses") != std::string::npos;
}

std::string chatRequest(const Options &o, bool stream)
{
    const std::string prompt = isResponses(o)
                                   ? "\",\"input\":\"Say hello.\""
                                   : "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]";
    const std::string body = "{\"model\":\"" + o.model + prompt + (stream ? ",\"stream\":true}" : "}");
    std::string req = "POST " + o.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(o.port) +
                      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n";
    if (!o.key.empty())
        req += "Authorization: Bearer " + o.key + "\r\n";
    return req + "\r\n" + body;
}

// An HTTP/1.1 response read incrementally: status, headers, then a Content-Length or chunked body.
struct Response
{
    std::string raw;  // bytes not yet consumed
    std::string body; // decoded body so far
    int status = 0;
    bool headersDone = false;
    bool chunked = false;
    long long remaining = -1; // Content-Length left, or the current chunk's bytes left
    bool complete = false;
    bool bad = false;

    // Feeds bytes; decoded body bytes are appended to `body`.
    void feed(const char *data, size_t n)
    {
        raw.append(data, n);
        if (!headersDone) {
            const size_t end = raw.find("\r\n\r\n");
            if (end == std::string::npos)
                return;
            std::string head = raw.substr(0, end);
            raw.erase(0, end + 4);
            headersDone = true;
            if (head.size() < 12) {
                bad = true;
                return;
            }
            status = std::atoi(head.c_str() + 9);
            std::transform(head.begin(), head.end(), head.begin(), ::tolower);
            chunked = head.find("transfer-encoding: chunked") != std::string::npos;
            const size_t cl = head.find("content-length:");
            if (!chunked)
                remaining = cl == std::string::npos ? 0 : std::atoll(head.c_str() + cl + 15);
        }
        if (!chunked) {
            const size_t take = std::min<size_t>(raw.size(), size_t(remaining));
            body.append(raw, 0, take);
            raw.erase(0, take);
            remaining -= take;
            complete = remaining == 0;
            return;
        }
        while (!complete) {
            if (remaining <= 0) {
                if (remaining == 0) { // the CRLF after a chunk's data
                    if (raw.size() < 2)
                        return;
                    raw.erase(0, 2);
                    remaining = -1;
                }
                const size_t eol = raw.find("\r\n");
                if (eol == std::string::npos)
                    return;
                const long long size = std::strtoll(raw.c_str(), nullptr, 16);
                raw.erase(0, eol + 2);
                if (size == 0) {
                    complete = true; // trailers (none expected) and the final CRLF are ignored
                    return;
                }
                remaining = size;
            }
            const size_t take = std::min<size_t>(raw.size(), size_t(remaining));
            if (take == 0)
                return;
            body.append(raw, 0, take);
            raw.erase(0, take);
            remaining -= take;
        }
    }
};

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5));
    return v[i];
}

struct Stream
{
    int fd = -1;
    bool sent = false;
    long long sendNs = 0;
    long long lastArrival = 0;
    Response response;
    size_t scanned = 0; // body bytes already split into events
    int contentChunks = 0;
    bool done = false;
    bool closed = false;
    long long ttftNs = -1;
};

// What every round of streams measured.
struct StreamTotals
{
    std::vector<double> ttft, gaps, delivery;
    int streams = 0, completed = 0, failed = 0, non200 = 0;
    double wallMs = 0; // the slowest round
};

void streamRound(const Options &o, StreamTotals &t)
{
    const int ep = epoll_create1(0);
    std::vector<Stream> streams(size_t(o.streams));
    const std::string request = chatRequest(o, true);
    const bool responses = isResponses(o);
    std::vector<double> &ttft = t.ttft, &gaps = t.gaps, &delivery = t.delivery;
    const long long start = nowNs();
    size_t connected = 0;
    // Opens the streams whose start time has come; false if a connect fails.
    auto connectDue = [&] {
        while (
            connected < streams.size() &&
            (o.rampMs <= 0 || nowNs() - start >= (long long)(connected)*o.rampMs * 1000000LL / o.streams)) {
            Stream &s = streams[connected];
            s.fd = connectTo(o.port);
            if (s.fd < 0) {
                std::perror("connect");
                return false;
            }
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
            ev.data.u64 = connected;
            epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
            ++connected;
        }
        return true;
    };
    int open = o.streams;
    std::vector<epoll_event> events(256);
    char buf[65536];
    while (open > 0) {
        if (!connectDue())
            break; // the streams not opened count as failed
        const long long left = o.timeoutMs - (nowNs() - start) / 1000000;
        if (left <= 0)
            break;
        int wait = int(left);
        if (connected < streams.size()) // wake for the next start
            wait = std::min<long long>(
                wait, std::max<long long>(
                          0, ((long long)(connected)*o.rampMs * 1000000LL / o.streams - (nowNs() - start)) /
                                 1000000));
        const int n = epoll_wait(ep, events.data(), int(events.size()), wait);
        const long long arrival = nowNs();
        for (int k = 0; k < n; ++k) {
            Stream &s = streams[events[size_t(k)].data.u64];
            if (s.closed)
                continue;
            if (!s.sent && (events[size_t(k)].events & EPOLLOUT)) {
                s.sendNs = nowNs();
                if (write(s.fd, request.data(), request.size()) != ssize_t(request.size())) {
                    s.closed = true;
                    --open;
                    close(s.fd);
                    continue;
                }
                s.sent = true;
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP;
                ev.data.u64 = events[size_t(k)].data.u64;
                epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
            }
            if (!(events[size_t(k)].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                continue;
            bool eof = false;
            for (;;) {
                const ssize_t r = read(s.fd, buf, sizeof buf);
                if (r > 0) {
                    s.response.feed(buf, size_t(r));
                    continue;
                }
                eof = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
                break;
            }
            // Split the decoded body into SSE events and time the content chunks.
            for (;;) {
                const size_t end = s.response.body.find("\n\n", s.scanned);
                if (end == std::string::npos)
                    break;
                const std::string event = s.response.body.substr(s.scanned, end - s.scanned);
                s.scanned = end + 2;
                if (event.rfind("data: [DONE]", 0) == 0 || event.rfind("event: response.completed", 0) == 0) {
                    s.done = true;
                    continue;
                }
                const std::string marker = responses ? "\"delta\":\"T" : "\"content\":\"T";
                const size_t t = event.find(marker);
                if (t == std::string::npos)
                    continue;
                const long long stamped = std::atoll(event.c_str() + t + marker.size());
                ++s.contentChunks;
                delivery.push_back(double(arrival - stamped) / 1e6);
                if (s.ttftNs < 0) {
                    s.ttftNs = arrival - s.sendNs;
                    ttft.push_back(double(s.ttftNs) / 1e6);
                } else {
                    gaps.push_back(double(arrival - s.lastArrival) / 1e6);
                }
                s.lastArrival = arrival;
            }
            if (s.response.complete || eof || s.response.bad) {
                s.closed = true;
                --open;
                close(s.fd);
            }
        }
    }
    t.wallMs = std::max(t.wallMs, double(nowNs() - start) / 1e6);
    for (const Stream &s : streams) {
        const bool ok =
            s.response.status == 200 && s.response.complete && s.done && s.contentChunks == o.chunks;
        ++t.streams;
        ok ? ++t.completed : ++t.failed;
        if (s.response.status != 200)
            ++t.non200;
        if (!s.closed && s.fd >= 0)
            close(s.fd);
    }
    close(ep);
}

int runStream(const Options &o)
{
    StreamTotals t;
    for (int round = 0; round < std::max(1, o.rounds); ++round)
        streamRound(o, t);
    std::printf("streams=%d\ncompleted=%d\nfailed=%d\nnon200=%d\nchunks=%zu\nwall_ms=%.1f\n", t.streams,
                t.completed, t.failed, t.non200, t.delivery.size(), t.wallMs);
    std::printf("ttft_p50_ms=%.3f\nttft_p99_ms=%.3f\n", percentile(t.ttft, 50), percentile(t.ttft, 99));
    std::printf("gap_p50_ms=%.3f\ngap_p99_ms=%.3f\n", percentile(t.gaps, 50), percentile(t.gaps, 99));
    std::printf("delivery_p50_ms=%.3f\ndelivery_p99_ms=%.3f\n", percentile(t.delivery, 50),
                percentile(t.delivery, 99));
    return t.failed == 0 ? 0 : 3;
}

struct Client
{
    int fd = -1;
    bool busy = false;
    Response response;
};

int runWhole(const Options &o)
{
    const int ep = epoll_create1(0);
    const std::string request = chatRequest(o, false);
    std::vector<Client> clients(size_t(o.connections));
    int sent = 0, ok = 0, bad = 0, finished = 0;
    auto sendNext = [&](Client &c) {
        if (sent >= o.requests)
            return false;
        if (write(c.fd, request.data(), request.size()) != ssize_t(request.size()))
            return false;
        ++sent;
        c.busy = true;
        c.response = Response();
        return true;
    };
    for (size_t i = 0; i < clients.size(); ++i) {
        clients[i].fd = connectTo(o.port);
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev);
    }
    const long long start = nowNs();
    std::vector<epoll_event> events(256);
    char buf[65536];
    while (finished < o.requests) {
        const long long left = o.timeoutMs - (nowNs() - start) / 1000000;
        if (left <= 0)
            break;
        const int n = epoll_wait(ep, events.data(), int(events.size()), int(left));
        for (int k = 0; k < n; ++k) {
            Client &c = clients[events[size_t(k)].data.u64];
            if (c.fd < 0)
                continue;
            if (!c.busy && (events[size_t(k)].events & EPOLLOUT)) {
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP;
                ev.data.u64 = events[size_t(k)].data.u64;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                if (!sendNext(c)) {
                    close(c.fd);
                    c.fd = -1;
                }
                continue;
            }
            bool eof = false;
            for (;;) {
                const ssize_t r = read(c.fd, buf, sizeof buf);
                if (r > 0) {
                    c.response.feed(buf, size_t(r));
                    continue;
                }
                eof = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
                break;
            }
            if (c.response.complete) {
                ++finished;
                c.response.status == 200 ? ++ok : ++bad;
                c.busy = false;
                if (!sendNext(c)) {
                    close(c.fd);
                    c.fd = -1;
                }
            } else if (eof) {
                ++finished;
                ++bad;
                close(c.fd);
                c.fd = -1;
            }
        }
    }
    const double wallMs = double(nowNs() - start) / 1e6;
    std::printf("requests=%d\nok=%d\nfailed=%d\nwall_ms=%.1f\nrps=%.1f\n", o.requests, ok, o.requests - ok,
                wallMs, wallMs > 0 ? ok * 1000.0 / wallMs : 0.0);
    for (Client &c : clients)
        if (c.fd >= 0)
            close(c.fd);
    close(ep);
    return ok == o.requests ? 0 : 3;
}

int runHealth(const Options &o)
{
    if (o.command.empty()) {
        std::fprintf(stderr, "health: no command after --\n");
        return 2;
    }
    const long long start = nowNs();
    const pid_t pid = fork();
    if (pid == 0) {
        if (!o.log.empty()) {
            const int fd = open(o.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        std::vector<char *> argv = o.command;
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        std::perror("exec");
        _exit(127);
    }
    const std::string request =
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(o.port) + "\r\n\r\n";
    char buf[4096];
    while ((nowNs() - start) / 1000000 < o.timeoutMs) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(uint16_t(o.port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 &&
            write(fd, request.data(), request.size()) == ssize_t(request.size())) {
            const ssize_t r = read(fd, buf, sizeof buf - 1);
            if (r > 12 && std::strncmp(buf + 9, "200", 3) == 0) {
                std::printf("start_ms=%.1f\npid=%d\n", double(nowNs() - start) / 1e6, int(pid));
                close(fd);
                return 0;
            }
        }
        close(fd);
        usleep(1000);
    }
    std::printf("start_ms=-1\npid=%d\n", int(pid));
    return 3;
}

} // namespace

int main(int argc, char *argv[])
{
    Options o;
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_load stream|whole|health [options] (see load.cpp)\n");
        return 2;
    }
    o.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
        if (a == "--") {
            for (int j = i + 1; j < argc; ++j)
                o.command.push_back(argv[j]);
            break;
        }
        if (a == "--port")
            o.port = std::atoi(next().c_str());
        else if (a == "--path")
            o.path = next();
        else if (a == "--key")
            o.key = next();
        else if (a == "--model")
            o.model = next();
        else if (a == "--streams")
            o.streams = std::atoi(next().c_str());
        else if (a == "--chunks")
            o.chunks = std::atoi(next().c_str());
        else if (a == "--requests")
            o.requests = std::atoi(next().c_str());
        else if (a == "--connections")
            o.connections = std::atoi(next().c_str());
        else if (a == "--rounds")
            o.rounds = std::atoi(next().c_str());
        else if (a == "--ramp-ms")
            o.rampMs = std::atoi(next().c_str());
        else if (a == "--log")
            o.log = next();
        else if (a == "--timeout-ms")
            o.timeoutMs = std::atoi(next().c_str());
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (o.mode == "stream")
        return runStream(o);
    if (o.mode == "whole")
        return runWhole(o);
    if (o.mode == "health")
        return runHealth(o);
    std::fprintf(stderr, "unknown mode %s\n", o.mode.c_str());
    return 2;
}
