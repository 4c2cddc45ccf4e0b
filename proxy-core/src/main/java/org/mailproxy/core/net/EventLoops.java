package org.mailproxy.core.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's event loops. Both channels of a session (client side and upstream side) are registered on the same
 * loop, so session state needs no locks (STYLE.md 7).
 */
public final class EventLoops implements AutoCloseable {

    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;

    public EventLoops(int workerThreads) {
        this.acceptors = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("mailproxy-accept", true),
                NioIoHandler.newFactory());
        this.workers = new MultiThreadIoEventLoopGroup(workerThreads, new DefaultThreadFactory("mailproxy-io", true),
                NioIoHandler.newFactory());
    }

    public EventLoopGroup acceptors() {
        return acceptors;
    }

    public EventLoopGroup workers() {
        return workers;
    }

    public Class<NioServerSocketChannel> serverChannelType() {
        return NioServerSocketChannel.class;
    }

    public Class<NioSocketChannel> channelType() {
        return NioSocketChannel.class;
    }

    public void shutdown(Duration timeout) {
        acceptors.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS);
        workers.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS).awaitUninterruptibly(timeout.toMillis() + 1000);
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(2));
    }
}
