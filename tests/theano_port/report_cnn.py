"""Part A of the report (/work/shared/seed/assignment-report.txt): the CNN
trained with SGD, momentum and RMSprop, in the report's Theano code.

Only the imports differ from the report. Its script-level code is wrapped
in ``build()`` and ``train_loop()`` so that a test can pass a data subset
and a number of steps; ``sgd`` (Q1) and ``shuffle_data`` are not shown in
the report and are written the obvious way. The data come from the caller
instead of ``load.mnist()``.
"""
import numpy as np

import symgraph as theano
from symgraph import tensor as T
from symgraph.tensor.nnet import conv2d
from symgraph.tensor.signal import pool


def init_weights_bias4(filter_shape , d_type):
    fan_in = np.prod(filter_shape [1:])
    fan_out = filter_shape [0] * np.prod(filter_shape [2:])

    bound = np.sqrt(6. / (fan_in + fan_out))
    w_values = np.asarray(
        np.random.uniform(low=-bound , high=bound , size=filter_shape) ,
        dtype=d_type)
    b_values = np.zeros((filter_shape [0],) , dtype=d_type)
    return theano.shared(w_values , borrow=True) , theano.shared(b_values , borrow=True)

def init_weights_bias2(filter_shape , d_type):
    fan_in = filter_shape [1]
    fan_out = filter_shape [0]

    bound = np.sqrt(6. / (fan_in + fan_out))
    w_values = np.asarray(
        np.random.uniform(low=-bound , high=bound , size=filter_shape) ,
        dtype=d_type)
    b_values = np.zeros((filter_shape[1],), dtype=d_type)
    return theano.shared(w_values, borrow=True), theano.shared(b_values, borrow=True)


def model(X, w1, b1, w2, b2, w3, b3, w4, b4):
    pool_dim = (2, 2)
    # First convolution layer C1 and pooling layer S1
    y1 = T.nnet.relu(conv2d(X, w1) + b1.dimshuffle('x', 0, 'x', 'x'))
    o1 = pool.pool_2d(y1, pool_dim, ignore_border=True)

    # Second convolution layer C2 and pooling layer S2
    y2 = T.nnet.relu(conv2d(o1, w2) + b2.dimshuffle('x', 0, 'x', 'x'))
    o2 = pool.pool_2d(y2, pool_dim, ignore_border=True)

    # Input for fully connected layer
    fcinput = T.flatten(o2, outdim=2)
    # Fully connected layer F3 of size 100
    fcoutput = T.nnet.relu(T.dot(fcinput, w3) + b3)

    # Softmax layer F4 of size 10
    pyx = T.nnet.softmax(T.dot(fcoutput, w4) + b4)
    return y1, o1, y2, o2, pyx


def sgd(cost, params, lr=0.05, decay=0.0001):
    # not shown in the report: plain SGD with weight decay
    grads = T.grad(cost=cost, wrt=params)
    updates = []
    for p, g in zip(params, grads):
        updates.append([p, p - lr * (g + decay * p)])
    return updates


def sgd_momentum(cost, params, lr=0.05, decay=0.0001, momentum=0.5):
    grads = T.grad(cost=cost, wrt=params)
    updates = []
    for p, g in zip(params, grads):
        v = theano.shared(p.get_value() * 0.)
        v_new = momentum * v - (g + decay * p) * lr
        updates.append([p, p + v_new])
        updates.append([v, v_new])
    return updates


def RMSprop(cost , params , lr=0.001, decay=0.0001, rho=0.9, epsilon=1e-6):
    grads = T.grad(cost=cost , wrt=params)
    updates = []
    for p, g in zip(params, grads):
        acc = theano.shared(p.get_value() * 0.)
        acc_new = rho * acc + (1 - rho) * g ** 2
        gradient_scaling = T.sqrt(acc_new + epsilon)
        g = g / gradient_scaling
        updates.append((acc, acc_new))
        updates.append((p, p - lr * (g+ decay*p)))
    return updates


def shuffle_data(X, Y):
    # not shown in the report
    idx = np.random.permutation(len(X))
    return X[idx], Y[idx]


def build(optimizer="sgd"):
    """The report's graph and functions for Q1 ('sgd'), Q2 ('momentum',
    gamma = 0.1) or Q3 ('rmsprop'); returns train, predict, test1, test2."""
    X = T.tensor4('X')
    Y = T.matrix('Y')

    batch_size = 128
    learning_rate = 0.05
    decay = 1e-4
    epochs = 100
    num_filters_1 = 15
    num_filters_2 = 20
    fcsize = 100
    smsize = 10

    w1, b1 = init_weights_bias4((num_filters_1, 1, 9, 9), X.dtype)
    w2, b2 = init_weights_bias4((num_filters_2, num_filters_1, 5, 5), X.dtype)
    w3, b3 = init_weights_bias2((num_filters_2*3*3, fcsize), X.dtype)
    w4, b4 = init_weights_bias2((fcsize, smsize), X.dtype)

    y1, o1, y2, o2, py_x = model(X, w1, b1, w2, b2, w3, b3, w4, b4)
    y_x = T.argmax(py_x, axis=1)

    cost = T.mean(T.nnet.categorical_crossentropy(py_x, Y))
    params = [w1, b1, w2, b2, w3, b3, w4, b4]
    if optimizer == "sgd":
        updates = sgd(cost, params, lr=learning_rate, decay=decay)
    elif optimizer == "momentum":
        updates = sgd_momentum(cost, params, lr=learning_rate, decay=decay, momentum=0.1)
    else:
        updates = RMSprop(cost, params, lr=0.001, decay=decay, rho=0.9, epsilon=1e-6)

    train = theano.function(inputs=[X, Y], outputs=cost, updates=updates,
       allow_input_downcast=True)
    predict = theano.function(inputs=[X], outputs=y_x, allow_input_downcast=True)
    test1 = theano.function(inputs=[X], outputs=[y1, o1], allow_input_downcast=True)
    test2 = theano.function(inputs=[X], outputs=[y2, o2], allow_input_downcast=True)
    return train, predict, test1, test2


def train_loop(train, predict, trX, trY, teX, teY, epochs=100, batch_size=128, max_steps=None):
    """The report's training loop; stops after ``max_steps`` mini-batches.
    Returns the cost of every step and the test accuracy of every epoch."""
    trX = trX.reshape(-1, 1, 28, 28)
    teX = teX.reshape(-1, 1, 28, 28)
    costA, a, steps = [], [], []
    for i in range(epochs):
        trX, trY = shuffle_data(trX, trY)
        teX, teY = shuffle_data(teX, teY)
        cost = 0.0
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX),
           batch_size)):
            if max_steps is not None and len(steps) == max_steps:
                break
            steps.append(train(trX[start:end], trY[start:end]))
            cost = np.append(cost, steps[-1])
        costA = np.append(costA, np.mean(cost))
        a = np.append(a, np.mean(np.argmax(teY, axis=1) == predict(teX)))
        print('No.%2d Accuracy = %f' % (i+1, a[i]))
        if max_steps is not None and len(steps) == max_steps:
            break
    return np.array(steps), a
