// skiff-uv-echo: the plain C libuv reference for `bench wire`.
//
// The same frame shape as Skiff's wire (4-byte big-endian length, then the body) with no
// envelope, no handshake and no RPC layer: the cost floor for one loop thread per process on
// loopback. The server echoes every complete frame, batching the echoes of one read into one
// write, as Skiff's server batches the answers of one read batch into one flush.
//
//   skiff-uv-echo server PORT
//   skiff-uv-echo client PORT rtt COUNT PAYLOAD_BYTES
//   skiff-uv-echo client PORT pipelined COUNT PAYLOAD_BYTES WINDOW
//
// The client prints one JSON object.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <uv.h>

#define MAX_FRAME (16u << 20)

typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
} buffer_t;

static void buffer_reserve(buffer_t *buffer, size_t extra) {
    if (buffer->length + extra <= buffer->capacity) return;
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->length + extra) capacity *= 2;
    buffer->data = realloc(buffer->data, capacity);
    if (!buffer->data) { fprintf(stderr, "out of memory\n"); exit(1); }
    buffer->capacity = capacity;
}

static void buffer_append(buffer_t *buffer, const void *bytes, size_t count) {
    buffer_reserve(buffer, count);
    memcpy(buffer->data + buffer->length, bytes, count);
    buffer->length += count;
}

static void buffer_consume(buffer_t *buffer, size_t count) {
    memmove(buffer->data, buffer->data + count, buffer->length - count);
    buffer->length -= count;
}

static uint32_t read_length(const uint8_t *bytes) {
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

static void write_length(uint8_t *bytes, uint32_t length) {
    bytes[0] = (uint8_t)(length >> 24);
    bytes[1] = (uint8_t)(length >> 16);
    bytes[2] = (uint8_t)(length >> 8);
    bytes[3] = (uint8_t)length;
}

typedef struct {
    uv_write_t request;
    uv_buf_t buffer;
} write_t;

static void on_write(uv_write_t *request, int status) {
    write_t *write = (write_t *)request;
    free(write->buffer.base);
    free(write);
    if (status < 0 && status != UV_ECANCELED) fprintf(stderr, "write: %s\n", uv_strerror(status));
}

// Writes `bytes` now; what the kernel does not take goes through uv_write from a copy.
static void send_bytes(uv_stream_t *stream, const uint8_t *bytes, size_t count) {
    uv_buf_t direct = uv_buf_init((char *)bytes, (unsigned)count);
    int written = uv_try_write(stream, &direct, 1);
    if (written < 0 && written != UV_EAGAIN) return;
    if (written < 0) written = 0;
    if ((size_t)written == count) return;
    write_t *write = malloc(sizeof(write_t));
    size_t rest = count - (size_t)written;
    write->buffer = uv_buf_init(malloc(rest), (unsigned)rest);
    memcpy(write->buffer.base, bytes + written, rest);
    uv_write(&write->request, stream, &write->buffer, 1, on_write);
}

static char read_area[256 << 10];

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer) {
    (void)handle;
    (void)suggested;
    *buffer = uv_buf_init(read_area, sizeof read_area);
}


// ---------------------------------------------------------------- server

typedef struct {
    uv_tcp_t tcp;
    buffer_t input;
    buffer_t output;
} server_connection_t;

static void server_on_close(uv_handle_t *handle) {
    server_connection_t *connection = (server_connection_t *)handle;
    free(connection->input.data);
    free(connection->output.data);
    free(connection);
}

static void server_on_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer) {
    server_connection_t *connection = (server_connection_t *)stream;
    if (count < 0) {
        uv_close((uv_handle_t *)stream, server_on_close);
        return;
    }
    buffer_append(&connection->input, buffer->base, (size_t)count);
    size_t offset = 0;
    while (connection->input.length - offset >= 4) {
        uint32_t length = read_length(connection->input.data + offset);
        if (length > MAX_FRAME) {
            uv_close((uv_handle_t *)stream, server_on_close);
            return;
        }
        if (connection->input.length - offset < 4 + (size_t)length) break;
        buffer_append(&connection->output, connection->input.data + offset, 4 + (size_t)length);
        offset += 4 + length;
    }
    buffer_consume(&connection->input, offset);
    if (connection->output.length > 0) {
        send_bytes(stream, connection->output.data, connection->output.length);
        connection->output.length = 0;
    }
}

static void server_on_connection(uv_stream_t *server, int status) {
    if (status < 0) return;
    server_connection_t *connection = calloc(1, sizeof(server_connection_t));
    uv_tcp_init(server->loop, &connection->tcp);
    if (uv_accept(server, (uv_stream_t *)&connection->tcp) != 0) {
        uv_close((uv_handle_t *)&connection->tcp, server_on_close);
        return;
    }
    uv_tcp_nodelay(&connection->tcp, 1);
    uv_read_start((uv_stream_t *)&connection->tcp, on_alloc, server_on_read);
}

static int run_server(int port) {
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in address;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &address);
    int result = uv_tcp_bind(&server, (const struct sockaddr *)&address, 0);
    if (result == 0) result = uv_listen((uv_stream_t *)&server, 128, server_on_connection);
    if (result != 0) {
        fprintf(stderr, "cannot listen on 127.0.0.1:%d: %s\n", port, uv_strerror(result));
        return 1;
    }
    struct sockaddr_in bound;
    int bound_length = sizeof bound;
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &bound_length);
    // The parent reads this line to learn the port (PORT 0 picks a free one).
    printf("listening on 127.0.0.1:%d\n", ntohs(bound.sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}

// ---------------------------------------------------------------- client

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    buffer_t input;
    buffer_t output;
    uint8_t *frame;
    size_t frame_bytes;
    int pipelined;
    uint64_t count;
    uint64_t window;
    uint64_t sent;
    uint64_t received;
    uint64_t started_ns;
    uint64_t sent_at_ns;
    uint64_t *latencies_ns;
    uint64_t finished_ns;
} client_t;

static void client_send(client_t *client, uint64_t frames) {
    for (uint64_t i = 0; i < frames && client->sent < client->count; i++) {
        buffer_append(&client->output, client->frame, client->frame_bytes);
        client->sent++;
    }
    if (client->output.length > 0) {
        client->sent_at_ns = uv_hrtime();
        send_bytes((uv_stream_t *)&client->tcp, client->output.data, client->output.length);
        client->output.length = 0;
    }
}

static void client_on_read(uv_stream_t *stream, ssize_t count, const uv_buf_t *buffer) {
    client_t *client = (client_t *)stream;
    if (count < 0) {
        fprintf(stderr, "connection lost: %s\n", uv_strerror((int)count));
        uv_close((uv_handle_t *)stream, NULL);
        return;
    }
    buffer_append(&client->input, buffer->base, (size_t)count);
    size_t offset = 0;
    uint64_t completed = 0;
    while (client->input.length - offset >= 4) {
        uint32_t length = read_length(client->input.data + offset);
        if (client->input.length - offset < 4 + (size_t)length) break;
        offset += 4 + length;
        completed++;
    }
    buffer_consume(&client->input, offset);
    if (completed == 0) return;
    uint64_t now = uv_hrtime();
    if (!client->pipelined) client->latencies_ns[client->received] = now - client->sent_at_ns;
    client->received += completed;
    if (client->received >= client->count) {
        client->finished_ns = now;
        uv_close((uv_handle_t *)stream, NULL);
        return;
    }
    client_send(client, completed);
}

static void client_on_connect(uv_connect_t *connect, int status) {
    client_t *client = connect->data;
    if (status < 0) {
        fprintf(stderr, "cannot connect: %s\n", uv_strerror(status));
        exit(1);
    }
    uv_tcp_nodelay(&client->tcp, 1);
    uv_read_start((uv_stream_t *)&client->tcp, on_alloc, client_on_read);
    client->started_ns = uv_hrtime();
    client_send(client, client->pipelined ? client->window : 1);
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(uint64_t *sorted, uint64_t count, double fraction) {
    uint64_t rank = (uint64_t)(fraction * (double)count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > count) rank = count;
    return (double)sorted[rank - 1] / 1000.0;
}

static int run_client(int port, const char *mode, uint64_t count, size_t payload, uint64_t window) {
    uv_loop_t *loop = uv_default_loop();
    client_t client;
    memset(&client, 0, sizeof client);
    client.pipelined = strcmp(mode, "pipelined") == 0;
    client.count = count;
    client.window = window ? window : 1;
    client.frame_bytes = 4 + payload;
    client.frame = calloc(1, client.frame_bytes);
    write_length(client.frame, (uint32_t)payload);
    for (size_t i = 0; i < payload; i++) client.frame[4 + i] = (uint8_t)(i * 31 + 7);
    client.latencies_ns = calloc(count, sizeof(uint64_t));
    struct sockaddr_in address;
    uv_ip4_addr("127.0.0.1", port, &address);
    uv_tcp_init(loop, &client.tcp);
    client.connect.data = &client;
    uv_tcp_connect(&client.connect, &client.tcp, (const struct sockaddr *)&address, client_on_connect);
    uv_run(loop, UV_RUN_DEFAULT);
    if (client.received < count) {
        fprintf(stderr, "only %llu of %llu echoes arrived\n", (unsigned long long)client.received,
                (unsigned long long)count);
        return 1;
    }
    double seconds = (double)(client.finished_ns - client.started_ns) / 1e9;
    if (client.pipelined) {
        printf("{\"mode\":\"pipelined\",\"count\":%llu,\"payload_bytes\":%zu,\"window\":%llu,"
               "\"seconds\":%.6f,\"calls_per_s\":%.1f}\n",
               (unsigned long long)count, payload, (unsigned long long)client.window, seconds,
               (double)count / seconds);
    } else {
        qsort(client.latencies_ns, count, sizeof(uint64_t), compare_u64);
        printf("{\"mode\":\"rtt\",\"count\":%llu,\"payload_bytes\":%zu,\"p50_us\":%.2f,"
               "\"p99_us\":%.2f,\"max_us\":%.2f}\n",
               (unsigned long long)count, payload, percentile_us(client.latencies_ns, count, 0.50),
               percentile_us(client.latencies_ns, count, 0.99),
               (double)client.latencies_ns[count - 1] / 1000.0);
    }
    free(client.frame);
    free(client.latencies_ns);
    free(client.input.data);
    free(client.output.data);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "server") == 0) return run_server(atoi(argv[2]));
    if (argc >= 6 && strcmp(argv[1], "client") == 0) {
        uint64_t window = argc >= 7 ? strtoull(argv[6], NULL, 10) : 1;
        return run_client(atoi(argv[2]), argv[3], strtoull(argv[4], NULL, 10),
                          (size_t)strtoull(argv[5], NULL, 10), window);
    }
    fprintf(stderr,
            "usage: skiff-uv-echo server PORT\n"
            "       skiff-uv-echo client PORT rtt COUNT PAYLOAD_BYTES\n"
            "       skiff-uv-echo client PORT pipelined COUNT PAYLOAD_BYTES WINDOW\n");
    return 2;
}
