"""Neural-network ops with Theano's names (``T.nnet``)."""
from ..basic import sigmoid, softplus
from .basic import (LogSoftmax, Softmax, binary_crossentropy, categorical_crossentropy, log_softmax,
                    logsumexp, one_hot, relu, sigmoid_binary_crossentropy, softmax, ultra_fast_sigmoid)
from .conv import Conv2d, Conv2dGradInput, Conv2dGradWeights, conv2d
